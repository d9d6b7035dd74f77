//! Deterministic synthetic data: the SplitMix64 generator, word lists, and user generation.
//! Everything here is invented (syllable names, `.example` domains); no real people or companies.

use super::model::{flags, MailVal, TenantMeta, UserRec};

/// SplitMix64: tiny, fast, deterministic; one instance per generated object.
#[derive(Clone, Debug)]
pub struct Mix(pub u64);

impl Mix {
    pub fn new(seed: u64, salt: u64) -> Self {
        let mut m = Mix(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03);
        m.next_u64();
        m
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    /// True with probability `pct` percent.
    pub fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    /// A random-looking GUID (version-4 bit layout).
    pub fn guid(&mut self) -> u128 {
        let v = ((self.next_u64() as u128) << 64) | self.next_u64() as u128;
        (v & !(0xF000u128 << 64) & !(0xC000u128 << 48)) | (0x4000u128 << 64) | (0x8000u128 << 48)
    }
}

pub fn fmt_guid(v: u128) -> String {
    let h = format!("{v:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

pub fn parse_guid(s: &str) -> Option<u128> {
    let h: String = s.chars().filter(|c| *c != '-').collect();
    if h.len() != 32 || s.len() != 36 {
        return None;
    }
    u128::from_str_radix(&h, 16).ok()
}

const SYL: [&str; 24] = [
    "ka", "lo", "mi", "ren", "sa", "tor", "vel", "an", "bri", "cor", "da", "el", "fen", "gi", "har", "is", "jo", "ke",
    "lin", "mar", "nor", "ol", "pe", "quin",
];
const SUR_SUFFIX: [&str; 8] = ["son", "berg", "ley", "ford", "wick", "mont", "dale", "ton"];
pub const GIVEN_COUNT: u64 = 24 * 24;
pub const SURNAME_COUNT: u64 = 24 * 24 * 8;

pub const JOB_TITLES: [&str; 15] = [
    "Engineer",
    "Senior Engineer",
    "Analyst",
    "Manager",
    "Director",
    "Designer",
    "Accountant",
    "Sales Representative",
    "Support Specialist",
    "Recruiter",
    "Product Manager",
    "Data Scientist",
    "Technician",
    "Consultant",
    "Administrator",
];
pub const DEPARTMENTS: [&str; 10] = [
    "Engineering",
    "Finance",
    "Sales",
    "Marketing",
    "Support",
    "Human Resources",
    "Legal",
    "Operations",
    "Research",
    "Facilities",
];
pub const OFFICES: [&str; 6] = ["Building 1", "Building 2", "Building 3", "Harbor Office", "Hill Office", "Remote"];
pub const LOCATIONS: [&str; 10] = ["US", "GB", "DE", "FR", "IN", "JP", "BR", "CA", "AU", "NL"];
pub const GUEST_DOMAINS: [&str; 5] =
    ["partner-one.example", "vendor-two.example", "outside-three.example", "guest-four.example", "agency-five.example"];
pub const SKU_COUNT: usize = 4;

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub fn given_name(i: u16) -> String {
    let i = i as usize;
    cap(&format!("{}{}", SYL[i % 24], SYL[(i / 24) % 24]))
}

pub fn surname(i: u16) -> String {
    let i = i as usize;
    cap(&format!("{}{}{}", SYL[(i / 8) % 24], SYL[(i / 192) % 24], SUR_SUFFIX[i % 8]))
}

/// 2016-01-01T00:00:00Z .. ~2025-06-01 for initial users.
const CREATED_FROM: i64 = 1_451_606_400;
const CREATED_SPAN: u64 = 296_000_000;

/// Generate user number `num`. `guest_pct` is the guest share; `created` overrides the timestamp.
pub fn gen_user(seed: u64, num: u32, guest_pct: u64, created: Option<i64>) -> UserRec {
    let mut r = Mix::new(seed, 0x5553_4552_0000_0000 | num as u64);
    let id = r.guid();
    let guest = r.pct(guest_pct);
    let mut f = 0u16;
    if guest {
        f |= flags::GUEST;
        if r.pct(75) {
            f |= flags::ACCEPTED;
        }
    } else {
        if r.pct(40) {
            f |= flags::SYNCED;
        }
        if r.pct(85) {
            f |= flags::EMPLOYEE_ID;
        }
        if r.pct(30) {
            f |= flags::ALIAS;
        }
    }
    if r.pct(93) {
        f |= flags::ENABLED;
    }
    if r.pct(60) {
        f |= flags::PHONE;
    }
    if r.pct(70) {
        f |= flags::LANG;
    }
    let mail = if guest {
        if r.pct(20) {
            MailVal::Null
        } else {
            MailVal::Gen
        }
    } else if r.pct(6) {
        MailVal::Null
    } else {
        MailVal::Gen
    };
    let lic = if guest { 0 } else { (r.below(15) + 1) as u8 & 0x0F };
    UserRec {
        num,
        id,
        given: r.below(GIVEN_COUNT) as u16,
        surname: r.below(SURNAME_COUNT) as u16,
        created: created.unwrap_or(CREATED_FROM + r.below(CREATED_SPAN) as i64),
        display: None,
        mail,
        job: if guest || r.pct(8) { 0 } else { 1 + r.below(JOB_TITLES.len() as u64) as u8 },
        dept: if guest || r.pct(5) { 0 } else { 1 + r.below(DEPARTMENTS.len() as u64) as u8 },
        office: if r.pct(30) { 0 } else { 1 + r.below(OFFICES.len() as u64) as u8 },
        loc: if guest && r.pct(50) { 0 } else { 1 + r.below(LOCATIONS.len() as u64) as u8 },
        guest_dom: r.below(GUEST_DOMAINS.len() as u64) as u8,
        lic,
        flags: f,
        cost_center: if r.pct(40) { 1000 + r.below(9000) as u16 } else { 0 },
        ext_attr1: if !guest && r.pct(30) { 100 + r.below(900) as u16 } else { 0 },
    }
}

/// Tenant-level identifiers derived from the seed.
pub fn gen_meta(seed: u64) -> TenantMeta {
    let mut r = Mix::new(seed, 0x54454E41);
    let tenant_id = r.guid();
    let client_id = r.guid();
    let ext_app = r.guid();
    let mut secret = String::from("Sim8Q~");
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~";
    for _ in 0..34 {
        secret.push(ALPHA[r.below(ALPHA.len() as u64) as usize] as char);
    }
    let skus = (0..SKU_COUNT).map(|_| fmt_guid(r.guid())).collect();
    TenantMeta {
        tenant_id: fmt_guid(tenant_id),
        domain: "contoso-sim.onmicrosoft.com".to_string(),
        display_name: "Contoso Sim".to_string(),
        company: "Contoso Sim Ltd".to_string(),
        client_id: fmt_guid(client_id),
        client_secret: secret,
        ext_name: format!("extension_{ext_app:032x}_costCenter"),
        skus,
        created: 1_420_070_400 + r.below(30_000_000) as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_roundtrip_and_determinism() {
        let mut a = Mix::new(1, 2);
        let g = a.guid();
        let s = fmt_guid(g);
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert_eq!(parse_guid(&s), Some(g));
        assert_eq!(gen_user(9, 5, 10, None).id, gen_user(9, 5, 10, None).id);
        assert_ne!(gen_user(9, 5, 10, None).id, gen_user(9, 6, 10, None).id);
        assert!(!given_name(3).is_empty() && !surname(4000).is_empty());
    }
}
