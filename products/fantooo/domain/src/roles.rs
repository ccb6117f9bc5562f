//! Admin roles and their permission sets (spec: "Admin Role Management").

use serde::{Deserialize, Serialize};

text_enum! {
    pub enum AdminRole { SuperAdmin => "super_admin", Admin => "admin", Moderator => "moderator" }
}

text_enum! {
    /// Permissions checked on every admin route.
    pub enum Permission {
        ManageUsers => "manage_users",
        ManageFictionalProfiles => "manage_fictional_profiles",
        ManageOperators => "manage_operators",
        ManageChats => "manage_chats",
        ViewAnalytics => "view_analytics",
        ManagePayments => "manage_payments",
        ManageAdmins => "manage_admins",
        SystemSettings => "system_settings",
        DeleteData => "delete_data",
    }
}

/// The permission flags of one admin, stored as a JSON object so a
/// super_admin can customise them per admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Permissions {
    #[serde(default)]
    pub manage_users: bool,
    #[serde(default)]
    pub manage_fictional_profiles: bool,
    #[serde(default)]
    pub manage_operators: bool,
    #[serde(default)]
    pub manage_chats: bool,
    #[serde(default)]
    pub view_analytics: bool,
    #[serde(default)]
    pub manage_payments: bool,
    #[serde(default)]
    pub manage_admins: bool,
    #[serde(default)]
    pub system_settings: bool,
    #[serde(default)]
    pub delete_data: bool,
}

impl Permissions {
    /// The defaults for a role. Super admins hold everything; admins run the
    /// business but not other admins, settings or data deletion; moderators
    /// view and moderate chats and can ban or suspend users.
    pub fn for_role(role: AdminRole) -> Permissions {
        match role {
            AdminRole::SuperAdmin => Permissions {
                manage_users: true,
                manage_fictional_profiles: true,
                manage_operators: true,
                manage_chats: true,
                view_analytics: true,
                manage_payments: true,
                manage_admins: true,
                system_settings: true,
                delete_data: true,
            },
            AdminRole::Admin => Permissions {
                manage_users: true,
                manage_fictional_profiles: true,
                manage_operators: true,
                manage_chats: true,
                view_analytics: true,
                manage_payments: true,
                manage_admins: false,
                system_settings: false,
                delete_data: false,
            },
            AdminRole::Moderator => Permissions { manage_users: true, manage_chats: true, ..Permissions::default() },
        }
    }

    pub fn has(&self, p: Permission) -> bool {
        match p {
            Permission::ManageUsers => self.manage_users,
            Permission::ManageFictionalProfiles => self.manage_fictional_profiles,
            Permission::ManageOperators => self.manage_operators,
            Permission::ManageChats => self.manage_chats,
            Permission::ViewAnalytics => self.view_analytics,
            Permission::ManagePayments => self.manage_payments,
            Permission::ManageAdmins => self.manage_admins,
            Permission::SystemSettings => self.system_settings,
            Permission::DeleteData => self.delete_data,
        }
    }

    /// The effective set: a super admin always holds every permission, so a
    /// mistaken edit can never lock the last super admin out.
    pub fn effective(self, role: AdminRole) -> Permissions {
        if role == AdminRole::SuperAdmin {
            Permissions::for_role(role)
        } else {
            self
        }
    }
}

/// Fantooo's permissions in the platform's roles framework, so checks are
/// `platform_roles::require(&permissions, p)`.
impl platform_roles::Permission for Permission {
    const ALL: &'static [Permission] = Permission::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl platform_roles::Holder<Permission> for Permissions {
    fn holds(&self, p: Permission) -> bool {
        self.has(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_defaults_follow_the_spec() {
        let sa = Permissions::for_role(AdminRole::SuperAdmin);
        assert!(Permission::ALL.iter().all(|p| sa.has(*p)));
        let admin = Permissions::for_role(AdminRole::Admin);
        assert!(admin.has(Permission::ManagePayments));
        assert!(!admin.has(Permission::ManageAdmins));
        assert!(!admin.has(Permission::SystemSettings));
        assert!(!admin.has(Permission::DeleteData));
        let m = Permissions::for_role(AdminRole::Moderator);
        assert!(m.has(Permission::ManageChats) && m.has(Permission::ManageUsers));
        assert!(!m.has(Permission::ManageFictionalProfiles));
        assert!(!m.has(Permission::ManageOperators));
        assert!(!m.has(Permission::ManagePayments));
        assert!(!m.has(Permission::ViewAnalytics));
    }

    #[test]
    fn super_admin_cannot_lose_permissions() {
        let none = Permissions::default();
        assert!(none.effective(AdminRole::SuperAdmin).has(Permission::ManageAdmins));
        assert!(!none.effective(AdminRole::Admin).has(Permission::ManageUsers));
    }

    #[test]
    fn the_stored_form_is_the_platforms_permission_set() {
        // Stored admin permissions stay readable by the platform's generic set.
        let admin = Permissions::for_role(AdminRole::Admin);
        let json = serde_json::to_value(admin).unwrap();
        let set: platform_roles::PermissionSet<Permission> = serde_json::from_value(json).unwrap();
        for p in Permission::ALL {
            assert_eq!(set.contains(*p), admin.has(*p), "{p}");
            assert_eq!(platform_roles::require(&admin, *p).is_ok(), admin.has(*p));
        }
    }
}
