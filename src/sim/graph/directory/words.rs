//! Static catalogues for directory generation: built-in role templates, Graph permission app roles,
//! and the invented word lists used for group, app, device and contact names (all synthetic).

/// Built-in directory roles: (template id, display name, description). The first entries are the
/// roles activated in every generated tenant; the rest can be activated by mutations.
pub const ROLE_TEMPLATES: [(&str, &str, &str); 26] = [
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins."),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", "Can reset passwords for non-administrators and Helpdesk Administrators."),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365."),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader", "Can read everything that a Global Administrator can, but not update anything."),
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps."),
    ("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps except App Proxy."),
    ("fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator", "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports."),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management."),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader", "Can read security information and reports in Microsoft Entra ID and Office 365."),
    ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator", "Can manage all aspects of the Exchange product."),
    ("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator", "Can manage Conditional Access capabilities."),
    ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers", "Can read basic directory information. Commonly used to grant directory read access to applications and guests."),
    ("a0b1b346-4d3a-4e8b-98f8-753987be4970", "User", "Default role for member users. Includes all read access and limited write access."),
    ("10dae51f-b6af-4016-8d66-8c2a99b929b3", "Guest User", "Default role for guest users. Can read a limited set of directory information."),
    ("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator", "Can manage all aspects of the SharePoint service."),
    ("b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator", "Can perform common billing related tasks like updating payment information."),
    ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user."),
    ("3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator", "Can manage all aspects of the Intune product."),
    ("69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator", "Can manage the Microsoft Teams service."),
    ("95e79109-95c0-4d8e-aee3-d01accf2d47b", "Guest Inviter", "Can invite guest users independent of the 'members can invite guests' setting."),
    ("4a5d8f65-41da-4de4-8968-e035b65339cf", "Reports Reader", "Can read sign-in and audit reports."),
    ("17315797-102d-40b4-93e0-432062caca18", "Compliance Administrator", "Can read and manage compliance configuration and reports in Microsoft Entra ID and Microsoft 365."),
    ("4d6ac14f-3453-41d0-bef9-a3e0c569773a", "License Administrator", "Can manage product licenses on users and groups."),
    ("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator", "Can access to view, set and reset authentication method information for any user (admin or non-admin)."),
    ("2af84b1e-32c8-42b7-82bc-daa82404023b", "Restricted Guest User", "Restricted role for guest users. Can read a limited set of directory information."),
];
/// Roles activated at generation (indices into [`ROLE_TEMPLATES`]).
pub const INITIAL_ROLES: usize = 15;
/// Implicit roles: active but never given members.
pub const IMPLICIT_ROLES: [usize; 2] = [13, 14];

/// Microsoft Graph's own service principal.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// A few Graph application permissions: (app role id, value, display name).
pub const GRAPH_ROLES: [(&str, &str, &str); 12] = [
    ("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"),
    ("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups"),
    ("98830695-27a2-44f7-8c18-0c3ebc9698f6", "GroupMember.Read.All", "Read all group memberships"),
    ("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
    ("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Read all applications"),
    ("7438b122-aefc-4978-80ed-43db9fcc7715", "Device.Read.All", "Read all devices"),
    ("483bed4a-2ad3-4361-a73b-c83ccdbdc53c", "RoleManagement.Read.Directory", "Read all directory RBAC settings"),
    ("e1a88a34-94c4-4418-be12-c87b00e26bea", "OrgContact.Read.All", "Read organizational contacts"),
    ("b0afded3-3588-46d8-8b3d-9842eff778da", "AuditLog.Read.All", "Read all audit log data"),
    ("246dd0d5-5bd0-4def-940b-0421030a5b68", "Policy.Read.All", "Read your organization's policies"),
    ("498476ce-e0fe-48b0-b801-37ba7e2685c6", "Organization.Read.All", "Read organization information"),
    (
        "38d9df27-64da-44fd-b7c5-a6fbac20248f",
        "UserAuthenticationMethod.Read.All",
        "Read all users' authentication methods",
    ),
];

pub const GROUP_TOPICS: [&str; 16] = [
    "Finance",
    "Engineering",
    "Sales",
    "Marketing",
    "Support",
    "People",
    "Legal",
    "Operations",
    "Research",
    "Facilities",
    "Platform",
    "Security",
    "Design",
    "Data",
    "Field",
    "Procurement",
];
pub const GROUP_NOUNS: [&str; 12] = [
    "Team",
    "Readers",
    "Admins",
    "Leads",
    "Contractors",
    "Committee",
    "Guild",
    "Council",
    "Squad",
    "Operators",
    "Reviewers",
    "Champions",
];
pub const GROUP_DESCRIPTIONS: [&str; 6] = [
    "Team workspace",
    "Access group for shared resources",
    "Mailing list",
    "Project collaboration space",
    "Approvers and reviewers",
    "Managed by the service desk",
];
pub const MEMBERSHIP_RULES: [&str; 5] = [
    "(user.department -eq \"Sales\")",
    "(user.userType -eq \"Guest\")",
    "(user.jobTitle -contains \"Engineer\")",
    "(user.usageLocation -eq \"DE\")",
    "(user.accountEnabled -eq true)",
];

pub const APP_WORDS: [&str; 16] = [
    "Portal",
    "Sync",
    "Reporting",
    "Gateway",
    "Scheduler",
    "Billing",
    "Inventory",
    "Analytics",
    "Backup",
    "Ticketing",
    "Payroll",
    "Timesheet",
    "Wiki",
    "Monitor",
    "Directory",
    "Onboarding",
];
pub const APP_PREFIXES: [&str; 8] = ["HR", "Ops", "Contoso Sim", "Field", "Lab", "Partner", "Legacy", "Cloud"];
pub const AUDIENCES: [&str; 3] = ["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount"];
/// App role words: (value suffix, display name).
pub const APP_ROLE_WORDS: [(&str, &str); 8] = [
    ("Read", "Reader"),
    ("Write", "Writer"),
    ("Admin", "Administrator"),
    ("Approve", "Approver"),
    ("Audit", "Auditor"),
    ("Export", "Exporter"),
    ("Operate", "Operator"),
    ("Manage", "Manager"),
];
pub const VENDORS: [&str; 6] =
    ["Fabrikam Sim", "Northwind Sim", "Tailspin Sim", "Adatum Sim", "Litware Sim", "Woodgrove Sim"];

/// Device operating systems: (name, versions).
pub const OPERATING_SYSTEMS: [(&str, [&str; 3]); 5] = [
    ("Windows", ["10.0.19045.4170", "10.0.22631.3296", "10.0.26100.1742"]),
    ("MacMDM", ["14.4.1", "15.0", "15.1"]),
    ("iOS", ["17.4.1", "17.5", "18.0"]),
    ("Android", ["13", "14", "15"]),
    ("Linux", ["22.04", "24.04", "12"]),
];
pub const TRUST_TYPES: [&str; 3] = ["Workplace", "AzureAd", "ServerAd"];
pub const MANUFACTURERS: [(&str, [&str; 2]); 4] = [
    ("Simtech", ["Book 14", "Book 16"]),
    ("Contoso Devices", ["Slate 7", "Tower S"]),
    ("Example Mobile", ["Phone X", "Phone Mini"]),
    ("Generic PC Co", ["Desk 300", "Laptop 500"]),
];

pub const CONTACT_COMPANIES: [&str; 6] =
    ["Fabrikam Sim", "Northwind Sim", "Tailspin Sim", "Adatum Sim", "Litware Sim", "Woodgrove Sim"];
pub const CONTACT_DOMAINS: [&str; 6] = [
    "fabrikam-sim.example",
    "northwind-sim.example",
    "tailspin-sim.example",
    "adatum-sim.example",
    "litware-sim.example",
    "woodgrove-sim.example",
];
