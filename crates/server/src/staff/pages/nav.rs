//! The console's navigation: one line per page, shown only to roles whose permission allows it.
//!
//! Other parts of the console add their pages here by adding a line to [`NAV`]; the layout
//! (`templates/staff/layout.html`) lists whatever [`for_role`] returns, in this order.

use staydown_domain::roles::Role;

use crate::auth::{Permission, allowed};

/// One navigation entry.
#[derive(Debug, Clone, Copy)]
pub struct NavItem {
    /// The page's path (also what `aria-current` is matched against, as a prefix).
    pub href: &'static str,
    /// Catalogue key of the label (`locales/*/staff.ftl` or the owning page's own file).
    pub label: &'static str,
    /// The permission (of `auth::allowed`) a role needs to see the entry.
    pub permission: Permission,
}

/// Marks a catalogue key for the completeness test (`pages::i18n`).
const fn t(key: &'static str) -> &'static str {
    key
}

/// Every console page, in menu order.
pub const NAV: &[NavItem] = &[
    NavItem { href: "/staff/queue", label: t("staff-nav-queue"), permission: Permission::ViewQueue },
    NavItem { href: "/staff/appeals", label: t("staff-nav-appeals"), permission: Permission::ViewQueue },
    NavItem { href: "/staff/dashboard", label: t("staff-admin-nav-dashboard"), permission: Permission::ViewStats },
    NavItem { href: "/staff/banks", label: t("staff-admin-nav-banks"), permission: Permission::ManageBanks },
    NavItem {
        href: "/staff/transparency",
        label: t("staff-admin-nav-transparency"),
        permission: Permission::ViewSubmissions,
    },
    NavItem { href: "/staff/admin", label: t("staff-admin-nav-admin"), permission: Permission::ViewAccounts },
    NavItem { href: "/staff/helpline", label: t("helpline-nav"), permission: Permission::HelplineWork },
    NavItem {
        href: "/staff/helpline/league",
        label: t("helpline-league-title"),
        permission: Permission::ViewHelplineFigures,
    },
];

/// The entries a role may see.
pub fn for_role(role: Role) -> impl Iterator<Item = &'static NavItem> {
    NAV.iter().filter(move |item| allowed(Some(role), item.permission))
}
