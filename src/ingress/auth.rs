//! Bearer-token authentication of `/handle/*` (constant-time comparison with `subtle`), and the
//! start-up rule that refuses to serve without a token unless explicitly insecure on loopback.

use std::net::SocketAddr;

use hyper::header::{HeaderMap, AUTHORIZATION};
use subtle::ConstantTimeEq;

use super::IngressError;

/// How `/handle/*` requests are authenticated.
#[derive(Clone)]
pub(crate) enum Auth {
    /// `Authorization: Bearer <token>` required.
    Bearer(Vec<u8>),
    /// No authentication (only with `insecure_no_auth` on a loopback address).
    Disabled,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        match self {
            Auth::Bearer(_) => f.write_str("Auth::Bearer(<redacted>)"),
            Auth::Disabled => f.write_str("Auth::Disabled"),
        }
    }
}

impl Auth {
    /// Decide the auth mode from the options; see [`IngressError::NoToken`] and
    /// [`IngressError::InsecureNotLoopback`].
    pub(crate) fn from_options(
        listen: SocketAddr,
        token: Option<&str>,
        insecure_no_auth: bool,
    ) -> Result<Auth, IngressError> {
        if insecure_no_auth && !listen.ip().is_loopback() {
            return Err(IngressError::InsecureNotLoopback(listen));
        }
        match token.map(str::trim) {
            Some(t) if !t.is_empty() => {
                if t.chars().any(|c| !c.is_ascii_graphic()) {
                    return Err(IngressError::InvalidOptions(
                        "the ingress token must be printable ASCII without spaces".to_owned(),
                    ));
                }
                Ok(Auth::Bearer(t.as_bytes().to_vec()))
            }
            _ if insecure_no_auth => {
                tracing::warn!(
                    %listen,
                    "ingress authentication DISABLED (--insecure-no-auth on a loopback address)"
                );
                Ok(Auth::Disabled)
            }
            _ => Err(IngressError::NoToken),
        }
    }

    /// Whether the request carries the right credentials. Never logs the header.
    pub(crate) fn check(&self, headers: &HeaderMap) -> bool {
        let expected = match self {
            Auth::Disabled => return true,
            Auth::Bearer(t) => t,
        };
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return false; // missing, or ambiguous (several Authorization headers)
        };
        let Some(presented) = bearer_credentials(value.as_bytes()) else {
            return false;
        };
        // `ct_eq` on slices of different lengths returns false without comparing contents;
        // only the length of the expected token can leak, which is not secret enough to matter.
        presented.ct_eq(expected.as_slice()).into()
    }
}

/// The credentials of an `Authorization: Bearer <credentials>` value (scheme case-insensitive).
fn bearer_credentials(value: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer";
    if value.len() <= SCHEME.len() || !value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let rest = &value[SCHEME.len()..];
    let start = rest.iter().position(|b| *b != b' ')?;
    if start == 0 {
        return None; // "Bearerxyz"
    }
    let creds = &rest[start..];
    let end = creds.iter().rposition(|b| *b != b' ').map_or(0, |i| i + 1);
    Some(&creds[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn bearer_check() {
        let auth = Auth::Bearer(b"s3cret".to_vec());
        assert!(auth.check(&headers("Bearer s3cret")));
        assert!(auth.check(&headers("bearer   s3cret ")));
        assert!(!auth.check(&headers("Bearer s3cre")));
        assert!(!auth.check(&headers("Bearer s3cretX")));
        assert!(!auth.check(&headers("Bearers3cret")));
        assert!(!auth.check(&headers("Basic s3cret")));
        assert!(!auth.check(&headers("Bearer")));
        assert!(!auth.check(&HeaderMap::new()));
        let mut two = headers("Bearer s3cret");
        two.append(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert!(!auth.check(&two));
        assert!(Auth::Disabled.check(&HeaderMap::new()));
    }

    #[test]
    fn start_up_rules() {
        let lo: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:0".parse().expect("addr");
        assert!(matches!(Auth::from_options(any, None, false), Err(IngressError::NoToken)));
        assert!(matches!(Auth::from_options(lo, Some("  "), false), Err(IngressError::NoToken)));
        assert!(matches!(Auth::from_options(any, None, true), Err(IngressError::InsecureNotLoopback(_))));
        assert!(matches!(Auth::from_options(lo, None, true), Ok(Auth::Disabled)));
        assert!(matches!(Auth::from_options(any, Some("t"), false), Ok(Auth::Bearer(_))));
        assert!(matches!(Auth::from_options(any, Some("a b"), false), Err(IngressError::InvalidOptions(_))));
    }
}
