//! Opaque state tokens (`$skiptoken`, `$deltatoken`) and the keyed MAC shared with bearer tokens.
//! A token is base64url(nonce ‖ obfuscated JSON payload ‖ MAC); anything tampered opens to `None`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::hash::Hasher;

/// The `$top` of a list request: None when absent, Err(the message Graph answers) outside `1..=max`.
pub fn requested_top(raw: Option<&str>, max: usize) -> Result<Option<usize>, String> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.trim().parse::<usize>() {
        Ok(t) if (1..=max).contains(&t) => Ok(Some(t)),
        _ => Err(format!("Invalid page size specified: '{raw}'. Must be between 1 and {max} inclusive.")),
    }
}

/// A list's `nextLink`: `prefix` (ending in `?`) with the options the client gave (`$select`, `$top`,
/// `$expand`) repeated for readability, and the `$skiptoken` that carries them.
pub fn next_link(
    prefix: String,
    sel: Option<&[String]>,
    top: Option<usize>,
    expand: Option<&str>,
    tok: &str,
) -> String {
    let mut link = prefix;
    if let Some(s) = sel {
        link.push_str(&format!("$select={}&", s.join(",")));
    }
    if let Some(t) = top {
        link.push_str(&format!("$top={t}&"));
    }
    if let Some(e) = expand {
        link.push_str(&format!("$expand={e}&"));
    }
    link.push_str(&format!("$skiptoken={tok}"));
    link
}

/// Keyed MAC + keystream built on SipHash (std `DefaultHasher` with a secret prefix).
/// Good enough for a simulator: tokens are unreadable and tamper-evident, not cryptographically strong.
pub struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        Sealer { key }
    }

    fn hash(&self, domain: u8, parts: &[&[u8]]) -> u64 {
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(
            u64::from_le_bytes(self.key[0..8].try_into().unwrap_or([0; 8])),
            u64::from_le_bytes(self.key[8..16].try_into().unwrap_or([0; 8])),
        );
        h.write(&self.key[16..]);
        h.write_u8(domain);
        for p in parts {
            h.write_usize(p.len());
            h.write(p);
        }
        h.finish()
    }

    /// 32-byte MAC over `data` (four domain-separated SipHash outputs).
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, chunk) in out.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&self.hash(10 + i as u8, &[data]).to_le_bytes());
        }
        out
    }

    fn xor_stream(&self, nonce: &[u8], data: &mut [u8]) {
        for (block, chunk) in data.chunks_mut(8).enumerate() {
            let ks = self.hash(1, &[nonce, &(block as u64).to_le_bytes()]).to_le_bytes();
            for (b, k) in chunk.iter_mut().zip(ks.iter()) {
                *b ^= k;
            }
        }
    }

    /// Seal a value into an opaque URL-safe token. Every call yields a different string.
    pub fn seal<T: Serialize>(&self, value: &T) -> String {
        let mut payload = serde_json::to_vec(value).unwrap_or_default();
        let nonce: [u8; 8] = rand::random();
        self.xor_stream(&nonce, &mut payload);
        let mut buf = Vec::with_capacity(8 + payload.len() + 12);
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(&payload);
        let tag = self.mac(&buf);
        buf.extend_from_slice(&tag[..12]);
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// Open a token produced by [`Sealer::seal`]; `None` if malformed, tampered, or of another type.
    pub fn open<T: DeserializeOwned>(&self, token: &str) -> Option<T> {
        let raw = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
        if raw.len() < 8 + 12 {
            return None;
        }
        let (body, tag) = raw.split_at(raw.len() - 12);
        if self.mac(body)[..12] != *tag {
            return None;
        }
        let (nonce, payload) = body.split_at(8);
        let mut payload = payload.to_vec();
        self.xor_stream(nonce, &mut payload);
        serde_json::from_slice(&payload).ok()
    }
}

/// `$skiptoken` of `GET /users`: the original options plus the cursor.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ListSkip {
    pub k: String, // always "list"
    pub after: u32,
    /// `$top` as originally given (None = default page size).
    pub top: Option<usize>,
    pub sel: Option<Vec<String>>,
}

/// Where a delta round is: still listing existing objects, or walking the change log.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum DeltaPhase {
    /// Initial round; next object has `num > after` (None = from the start).
    Initial { after: Option<u32> },
    /// Change round; next change-log index to scan (0-based).
    Changes { pos: u64 },
}

/// `$skiptoken` of a delta round.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DeltaSkip {
    pub k: String, // always "dskip"
    pub phase: DeltaPhase,
    /// Change-log head captured when the round started; becomes the next deltaLink.
    pub head: u64,
    pub page: u32,
    pub sel: Option<Vec<String>>,
}

/// `$deltatoken`: everything after change sequence `seq` is new to the holder.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DeltaTok {
    pub k: String, // always "dtok"
    pub seq: u64,
    pub sel: Option<Vec<String>>,
    /// Simulated issue time (unix seconds) for expiry.
    pub iat: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_tamper() {
        let s = Sealer::new([7; 32]);
        let t = DeltaTok { k: "dtok".into(), seq: 42, sel: Some(vec!["id".into()]), iat: 5 };
        let a = s.seal(&t);
        let b = s.seal(&t);
        assert_ne!(a, b, "tokens must differ per issue");
        assert_eq!(s.open::<DeltaTok>(&a), Some(t.clone()));
        assert!(!a.contains("dtok"));
        let mut bad = a.clone().into_bytes();
        let i = bad.len() / 2;
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.open::<DeltaTok>(&String::from_utf8(bad).unwrap()), None);
        assert_eq!(s.open::<DeltaTok>("garbage!!"), None);
        assert_eq!(Sealer::new([8; 32]).open::<DeltaTok>(&a), None);
        assert_eq!(s.open::<ListSkip>(&a), None);
    }
}
