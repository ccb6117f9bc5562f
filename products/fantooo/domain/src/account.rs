//! Kinds of accounts and the profile attributes users choose at sign-up.

text_enum! {
    /// One auth system serves three kinds of account; each login page admits
    /// exactly one kind.
    pub enum AccountKind { User => "user", Operator => "operator", Admin => "admin" }
}

text_enum! {
    pub enum Gender { Male => "male", Female => "female", Other => "other" }
}

text_enum! {
    pub enum LookingFor { Male => "male", Female => "female", Both => "both" }
}

impl LookingFor {
    /// Whether a profile of `gender` matches this preference.
    pub fn matches(self, gender: Gender) -> bool {
        match self {
            LookingFor::Both => true,
            LookingFor::Male => gender == Gender::Male,
            LookingFor::Female => gender == Gender::Female,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn looking_for_matches_gender() {
        assert!(LookingFor::Both.matches(Gender::Other));
        assert!(LookingFor::Female.matches(Gender::Female));
        assert!(!LookingFor::Female.matches(Gender::Male));
        assert_eq!("male".parse::<Gender>().unwrap(), Gender::Male);
        assert!("robot".parse::<Gender>().is_err());
    }
}
