//! The access table: for each policy/report/log endpoint, the app permissions (any one suffices), the
//! licence it needs, which 403/licence body it answers, and its throttling bucket; plus the check.

use super::super::errors::{licence_denied, permission_denied, DeniedKind, LicenceDeniedKind};
use super::super::http::{Ctx, Resp};
use super::super::token::Claims;
use super::licence::Licence;

/// The throttling bucket a request is charged to (graph-api.md §4.3, §4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleBucket {
    /// Identity & access RU bucket per app+tenant, at this base cost.
    Identity { ru: u32 },
    /// Identity & access reports: 5 requests / 10 s per app+tenant.
    Reports,
    /// Conditional access: 1 request / s per tenant, 429 without `Retry-After`.
    ConditionalAccess,
}

/// What one endpoint requires.
#[derive(Debug)]
pub struct EndpointRule {
    /// Stable name, also used in statistics labels.
    pub name: &'static str,
    /// Application permissions of which any one grants access.
    pub permissions: &'static [&'static str],
    /// The 403 body when none is granted.
    pub denied: DeniedKind,
    /// Licence needed, and the error when the tenant lacks it.
    pub licence: Licence,
    pub licence_error: Option<LicenceDeniedKind>,
    pub bucket: ThrottleBucket,
}

const AUDIT: &[&str] = &["AuditLog.Read.All"];
const DIRECTORY: &[&str] = &["Directory.Read.All", "Directory.ReadWrite.All"];

pub static AUTH_METHODS: EndpointRule = EndpointRule {
    name: "users/{id}/authentication/methods",
    permissions: &["UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"],
    denied: DeniedKind::AuthMethods,
    licence: Licence::Free,
    licence_error: None,
    // graph-api.md §8.12: per-user method reads are throttled under the reports limits (5 / 10 s).
    bucket: ThrottleBucket::Reports,
};

pub static REGISTRATION_DETAILS: EndpointRule = EndpointRule {
    name: "reports/authenticationMethods/userRegistrationDetails",
    permissions: AUDIT,
    denied: DeniedKind::Reports,
    licence: Licence::P1,
    licence_error: Some(LicenceDeniedKind::NonPremium),
    bucket: ThrottleBucket::Reports,
};

pub static AUTH_METHODS_POLICY: EndpointRule = EndpointRule {
    name: "policies/authenticationMethodsPolicy",
    permissions: &["Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All"],
    denied: DeniedKind::AuthMethods,
    licence: Licence::Free,
    licence_error: None,
    bucket: ThrottleBucket::Identity { ru: 1 },
};

pub static CONDITIONAL_ACCESS: EndpointRule = EndpointRule {
    name: "identity/conditionalAccess/policies",
    permissions: &["Policy.Read.All", "Policy.Read.ConditionalAccess", "Policy.ReadWrite.ConditionalAccess"],
    denied: DeniedKind::ConditionalAccess,
    licence: Licence::P1,
    licence_error: Some(LicenceDeniedKind::ConditionalAccess),
    bucket: ThrottleBucket::ConditionalAccess,
};

pub static PIM_ELIGIBILITY: EndpointRule = EndpointRule {
    name: "roleManagement/directory/roleEligibilitySchedules",
    permissions: &[
        "RoleEligibilitySchedule.Read.Directory",
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleEligibilitySchedule.ReadWrite.Directory",
        "RoleManagement.ReadWrite.Directory",
    ],
    denied: DeniedKind::Pim,
    licence: Licence::P2,
    licence_error: Some(LicenceDeniedKind::PimPremium),
    bucket: ThrottleBucket::Identity { ru: 1 },
};

pub static WORKFLOWS: EndpointRule = EndpointRule {
    name: "identityGovernance/lifecycleWorkflows/workflows",
    permissions: &["LifecycleWorkflows.Read.All", "LifecycleWorkflows.ReadWrite.All"],
    denied: DeniedKind::Directory,
    licence: Licence::Governance,
    licence_error: Some(LicenceDeniedKind::Governance),
    bucket: ThrottleBucket::Identity { ru: 1 },
};

pub static SUBSCRIBED_SKUS: EndpointRule = EndpointRule {
    name: "subscribedSkus",
    permissions: &[
        "Organization.Read.All",
        "Organization.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ],
    denied: DeniedKind::Directory,
    licence: Licence::Free,
    licence_error: None,
    bucket: ThrottleBucket::Identity { ru: 3 },
};

pub static DIRECTORY_AUDITS: EndpointRule = EndpointRule {
    name: "auditLogs/directoryAudits",
    permissions: AUDIT,
    denied: DeniedKind::Reports,
    licence: Licence::Free,
    licence_error: None,
    bucket: ThrottleBucket::Reports,
};

pub static SIGN_INS: EndpointRule = EndpointRule {
    name: "auditLogs/signIns",
    permissions: AUDIT,
    denied: DeniedKind::Reports,
    licence: Licence::P1,
    licence_error: Some(LicenceDeniedKind::NonPremium),
    bucket: ThrottleBucket::Reports,
};

pub static AVAILABLE_EXTENSIONS: EndpointRule = EndpointRule {
    name: "directoryObjects/getAvailableExtensionProperties",
    permissions: DIRECTORY,
    denied: DeniedKind::Directory,
    licence: Licence::Free,
    licence_error: None,
    bucket: ThrottleBucket::Identity { ru: 1 },
};

pub static APP_EXTENSIONS: EndpointRule = EndpointRule {
    name: "applications/{id}/extensionProperties",
    permissions: &[
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ],
    denied: DeniedKind::Directory,
    licence: Licence::Free,
    licence_error: None,
    bucket: ThrottleBucket::Identity { ru: 2 },
};

/// Every rule, for documentation and for other routes that want to look one up by name.
pub static RULES: [&EndpointRule; 11] = [
    &AUTH_METHODS,
    &REGISTRATION_DETAILS,
    &AUTH_METHODS_POLICY,
    &CONDITIONAL_ACCESS,
    &PIM_ELIGIBILITY,
    &WORKFLOWS,
    &SUBSCRIBED_SKUS,
    &DIRECTORY_AUDITS,
    &SIGN_INS,
    &AVAILABLE_EXTENSIONS,
    &APP_EXTENSIONS,
];

pub fn rule(name: &str) -> Option<&'static EndpointRule> {
    RULES.iter().copied().find(|r| r.name == name)
}

/// How a request that passed the checks must be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// The licence is missing but the endpoint is configured to answer an empty collection.
    Empty,
}

/// Check the caller's permissions, then the tenant's licence. `ca_empty`: conditional access on an
/// unlicensed tenant answers an empty list instead of the 403.
pub fn check(
    ctx: &Ctx,
    claims: &Claims,
    rule: &EndpointRule,
    licence: Licence,
    ca_empty: bool,
) -> Result<Gate, Box<Resp>> {
    if !claims.has_any(rule.permissions) {
        return Err(Box::new(permission_denied(ctx, rule.denied, rule.permissions)));
    }
    if licence.allows(rule.licence) {
        return Ok(Gate::Open);
    }
    match rule.licence_error {
        Some(LicenceDeniedKind::ConditionalAccess) if ca_empty => Ok(Gate::Empty),
        Some(kind) => Err(Box::new(licence_denied(ctx, kind))),
        None => Ok(Gate::Open),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for r in RULES {
            assert!(!r.permissions.is_empty(), "{}", r.name);
            assert_eq!(r.licence == Licence::Free, r.licence_error.is_none(), "{}", r.name);
            assert!(std::ptr::eq(rule(r.name).unwrap(), r));
        }
    }
}
