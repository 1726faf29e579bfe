//! The Transparency Database's closed vocabularies (spec §3.3) as Rust enums that serialise to
//! the exact API strings.
//!
//! DSA Art. 24(5). Each enum has `as_str`, `parse` and `ALL`; serde uses the wire strings, and an
//! unknown string is refused when deserialising, as the API refuses it ("The selected … is invalid.").

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[allow(missing_docs)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The API's string.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The value for an API string, if it is one.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format_args!("`{s}` is not a valid {}", stringify!($name)))
                })
            }
        }
    };
}

wire_enum! {
    /// `decision_visibility` (an array in the API).
    DecisionVisibility {
        ContentRemoved = "DECISION_VISIBILITY_CONTENT_REMOVED",
        ContentDisabled = "DECISION_VISIBILITY_CONTENT_DISABLED",
        ContentDemoted = "DECISION_VISIBILITY_CONTENT_DEMOTED",
        ContentAgeRestricted = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
        ContentInteractionRestricted = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        ContentLabelled = "DECISION_VISIBILITY_CONTENT_LABELLED",
        Other = "DECISION_VISIBILITY_OTHER",
    }
}

wire_enum! {
    /// `decision_monetary`.
    DecisionMonetary {
        Suspension = "DECISION_MONETARY_SUSPENSION",
        Termination = "DECISION_MONETARY_TERMINATION",
        Other = "DECISION_MONETARY_OTHER",
    }
}

wire_enum! {
    /// `decision_provision`.
    DecisionProvision {
        PartialSuspension = "DECISION_PROVISION_PARTIAL_SUSPENSION",
        TotalSuspension = "DECISION_PROVISION_TOTAL_SUSPENSION",
        PartialTermination = "DECISION_PROVISION_PARTIAL_TERMINATION",
        TotalTermination = "DECISION_PROVISION_TOTAL_TERMINATION",
    }
}

wire_enum! {
    /// `decision_account`.
    DecisionAccount {
        Suspended = "DECISION_ACCOUNT_SUSPENDED",
        Terminated = "DECISION_ACCOUNT_TERMINATED",
    }
}

wire_enum! {
    /// `account_type` (business per Reg. (EU) 2019/1150, or private).
    AccountType {
        Business = "ACCOUNT_TYPE_BUSINESS",
        Private = "ACCOUNT_TYPE_PRIVATE",
    }
}

wire_enum! {
    /// `decision_ground`: the law (illegal content) or the terms and conditions (incompatible content).
    DecisionGround {
        IllegalContent = "DECISION_GROUND_ILLEGAL_CONTENT",
        IncompatibleContent = "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    }
}

wire_enum! {
    /// `content_type` (an array; a deepnude is `IMAGE` + `SYNTHETIC_MEDIA`).
    ContentType {
        App = "CONTENT_TYPE_APP",
        Audio = "CONTENT_TYPE_AUDIO",
        Image = "CONTENT_TYPE_IMAGE",
        Product = "CONTENT_TYPE_PRODUCT",
        SyntheticMedia = "CONTENT_TYPE_SYNTHETIC_MEDIA",
        Text = "CONTENT_TYPE_TEXT",
        Video = "CONTENT_TYPE_VIDEO",
        Other = "CONTENT_TYPE_OTHER",
    }
}

wire_enum! {
    /// `source_type`: what the decision followed.
    SourceType {
        Article16 = "SOURCE_ARTICLE_16",
        TrustedFlagger = "SOURCE_TRUSTED_FLAGGER",
        OtherNotification = "SOURCE_TYPE_OTHER_NOTIFICATION",
        Voluntary = "SOURCE_VOLUNTARY",
    }
}

wire_enum! {
    /// `automated_decision`: how far the decision itself was automated (detection is separate).
    AutomatedDecision {
        Fully = "AUTOMATED_DECISION_FULLY",
        Partially = "AUTOMATED_DECISION_PARTIALLY",
        NotAutomated = "AUTOMATED_DECISION_NOT_AUTOMATED",
    }
}

wire_enum! {
    /// The API's `"Yes"` / `"No"` strings (`automated_detection`, `incompatible_content_illegal`).
    YesNo {
        Yes = "Yes",
        No = "No",
    }
}

impl From<bool> for YesNo {
    fn from(b: bool) -> Self {
        if b { YesNo::Yes } else { YesNo::No }
    }
}

wire_enum! {
    /// `category` (16 values since the 1 July 2025 schema).
    Category {
        AnimalWelfare = "STATEMENT_CATEGORY_ANIMAL_WELFARE",
        ConsumerInformation = "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
        CyberViolence = "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        CyberViolenceAgainstWomen = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
        DataProtectionAndPrivacyViolations = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        IllegalOrHarmfulSpeech = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        IntellectualPropertyInfringements = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        NegativeEffectsOnCivicDiscourseOrElections = "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        NotSpecifiedNotice = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
        OtherViolationTc = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        ProtectionOfMinors = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        RiskForPublicSecurity = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        ScamsAndFraud = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        SelfHarm = "STATEMENT_CATEGORY_SELF_HARM",
        UnsafeAndProhibitedProducts = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
        Violence = "STATEMENT_CATEGORY_VIOLENCE",
    }
}

wire_enum! {
    /// `category_specification` keywords: the 68 of the 2025 template plus the legacy `STALKING`,
    /// which the API still accepts (spec §3.3 ⚠).
    Keyword {
        AnimalHarm = "KEYWORD_ANIMAL_HARM",
        UnlawfulSaleAnimals = "KEYWORD_UNLAWFUL_SALE_ANIMALS",
        HiddenAdvertisement = "KEYWORD_HIDDEN_ADVERTISEMENT",
        InsufficientInformationOnTraders = "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        MisleadingInfoGoodsServices = "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
        MisleadingInfoConsumerRights = "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
        NoncompliancePricing = "KEYWORD_NONCOMPLIANCE_PRICING",
        CyberBullyingIntimidation = "KEYWORD_CYBER_BULLYING_INTIMIDATION",
        CyberHarassment = "KEYWORD_CYBER_HARASSMENT",
        CyberIncitement = "KEYWORD_CYBER_INCITEMENT",
        CyberStalking = "KEYWORD_CYBER_STALKING",
        NonConsensualImageSharing = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        NonConsensualMaterialDeepfake = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        BullyingAgainstGirls = "KEYWORD_BULLYING_AGAINST_GIRLS",
        CyberHarassmentAgainstWomen = "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
        CyberStalkingAgainstWomen = "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
        FemaleGenderedDisinformation = "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
        IncitementAgainstWomen = "KEYWORD_INCITEMENT_AGAINST_WOMEN",
        NonConsensualImageSharingAgainstWomen = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        NonConsensualMaterialDeepfakeAgainstWomen = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
        BiometricDataBreach = "KEYWORD_BIOMETRIC_DATA_BREACH",
        DataFalsification = "KEYWORD_DATA_FALSIFICATION",
        MissingProcessingGround = "KEYWORD_MISSING_PROCESSING_GROUND",
        RightToBeForgotten = "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
        Defamation = "KEYWORD_DEFAMATION",
        Discrimination = "KEYWORD_DISCRIMINATION",
        HateSpeech = "KEYWORD_HATE_SPEECH",
        CopyrightInfringement = "KEYWORD_COPYRIGHT_INFRINGEMENT",
        DesignInfringement = "KEYWORD_DESIGN_INFRINGEMENT",
        GeographicIndicationsInfringement = "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        PatentInfringement = "KEYWORD_PATENT_INFRINGEMENT",
        TradeSecretInfringement = "KEYWORD_TRADE_SECRET_INFRINGEMENT",
        TrademarkInfringement = "KEYWORD_TRADEMARK_INFRINGEMENT",
        MisinformationDisinformation = "KEYWORD_MISINFORMATION_DISINFORMATION",
        ViolationEuLaw = "KEYWORD_VIOLATION_EU_LAW",
        ViolationNationalLaw = "KEYWORD_VIOLATION_NATIONAL_LAW",
        AdultSexualMaterial = "KEYWORD_ADULT_SEXUAL_MATERIAL",
        AgeSpecificRestrictions = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
        GeographicalRequirements = "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
        GoodsServicesNotPermitted = "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
        LanguageRequirements = "KEYWORD_LANGUAGE_REQUIREMENTS",
        Nudity = "KEYWORD_NUDITY",
        AgeSpecificRestrictionsMinors = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
        ChildSexualAbuseMaterial = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        ChildSexualAbuseMaterialDeepfake = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        GroomingSexualEnticementMinors = "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        UnsafeChallenges = "KEYWORD_UNSAFE_CHALLENGES",
        IllegalOrganizations = "KEYWORD_ILLEGAL_ORGANIZATIONS",
        RiskEnvironmentalDamage = "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
        RiskPublicHealth = "KEYWORD_RISK_PUBLIC_HEALTH",
        TerroristContent = "KEYWORD_TERRORIST_CONTENT",
        ImpersonationAccountHijacking = "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
        InauthenticAccounts = "KEYWORD_INAUTHENTIC_ACCOUNTS",
        InauthenticListings = "KEYWORD_INAUTHENTIC_LISTINGS",
        InauthenticUserReviews = "KEYWORD_INAUTHENTIC_USER_REVIEWS",
        Phishing = "KEYWORD_PHISHING",
        PyramidSchemes = "KEYWORD_PYRAMID_SCHEMES",
        ContentPromotingEatingDisorders = "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
        SelfMutilation = "KEYWORD_SELF_MUTILATION",
        Suicide = "KEYWORD_SUICIDE",
        ProhibitedProducts = "KEYWORD_PROHIBITED_PRODUCTS",
        UnsafeProducts = "KEYWORD_UNSAFE_PRODUCTS",
        CoordinatedHarm = "KEYWORD_COORDINATED_HARM",
        IncitementViolenceHatred = "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        HumanExploitation = "KEYWORD_HUMAN_EXPLOITATION",
        HumanTrafficking = "KEYWORD_HUMAN_TRAFFICKING",
        TraffickingWomenGirls = "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
        Other = "KEYWORD_OTHER",
        Stalking = "KEYWORD_STALKING",
    }
}

wire_enum! {
    /// `territorial_scope` codes: the EU 27 plus Iceland, Liechtenstein and Norway. Greece is `GR`.
    Country {
        At = "AT", Be = "BE", Bg = "BG", Cy = "CY", Cz = "CZ", De = "DE", Dk = "DK", Ee = "EE", Es = "ES", Fi = "FI",
        Fr = "FR", Gr = "GR", Hr = "HR", Hu = "HU", Ie = "IE", Is = "IS", It = "IT", Li = "LI", Lt = "LT", Lu = "LU",
        Lv = "LV", Mt = "MT", Nl = "NL", No = "NO", Pl = "PL", Pt = "PT", Ro = "RO", Se = "SE", Si = "SI", Sk = "SK",
    }
}

impl Country {
    /// The European Economic Area: all 30 codes.
    pub const EEA: &'static [Country] = Country::ALL;

    /// The 27 EU Member States (the EEA without Iceland, Liechtenstein and Norway).
    pub const EU: &'static [Country] = &[
        Country::At,
        Country::Be,
        Country::Bg,
        Country::Cy,
        Country::Cz,
        Country::De,
        Country::Dk,
        Country::Ee,
        Country::Es,
        Country::Fi,
        Country::Fr,
        Country::Gr,
        Country::Hr,
        Country::Hu,
        Country::Ie,
        Country::It,
        Country::Lt,
        Country::Lu,
        Country::Lv,
        Country::Mt,
        Country::Nl,
        Country::Pl,
        Country::Pt,
        Country::Ro,
        Country::Se,
        Country::Si,
        Country::Sk,
    ];
}

wire_enum! {
    /// `content_language`: the API's 184 upper-case ISO 639-1 codes
    /// (`EuropeanLanguagesService::ALL_LANGUAGES`).
    Language {
        Aa = "AA", Ab = "AB", Ae = "AE", Af = "AF", Ak = "AK", Am = "AM", An = "AN", Ar = "AR", As = "AS",
        Av = "AV", Ay = "AY", Az = "AZ", Ba = "BA", Be = "BE", Bg = "BG", Bh = "BH", Bi = "BI", Bm = "BM",
        Bn = "BN", Bo = "BO", Br = "BR", Bs = "BS", Ca = "CA", Ce = "CE", Ch = "CH", Co = "CO", Cr = "CR",
        Cs = "CS", Cu = "CU", Cv = "CV", Cy = "CY", Da = "DA", De = "DE", Dv = "DV", Dz = "DZ", Ee = "EE",
        El = "EL", En = "EN", Eo = "EO", Es = "ES", Et = "ET", Eu = "EU", Fa = "FA", Ff = "FF", Fi = "FI",
        Fj = "FJ", Fo = "FO", Fr = "FR", Fy = "FY", Ga = "GA", Gd = "GD", Gl = "GL", Gn = "GN", Gu = "GU",
        Gv = "GV", Ha = "HA", He = "HE", Hi = "HI", Ho = "HO", Hr = "HR", Ht = "HT", Hu = "HU", Hy = "HY",
        Hz = "HZ", Ia = "IA", Id = "ID", Ie = "IE", Ig = "IG", Ii = "II", Ik = "IK", Io = "IO", Is = "IS",
        It = "IT", Iu = "IU", Ja = "JA", Jv = "JV", Ka = "KA", Kg = "KG", Ki = "KI", Kj = "KJ", Kk = "KK",
        Kl = "KL", Km = "KM", Kn = "KN", Ko = "KO", Kr = "KR", Ks = "KS", Ku = "KU", Kv = "KV", Kw = "KW",
        Ky = "KY", La = "LA", Lb = "LB", Lg = "LG", Li = "LI", Ln = "LN", Lo = "LO", Lt = "LT", Lu = "LU",
        Lv = "LV", Mg = "MG", Mh = "MH", Mi = "MI", Mk = "MK", Ml = "ML", Mn = "MN", Mr = "MR", Ms = "MS",
        Mt = "MT", My = "MY", Na = "NA", Nb = "NB", Nd = "ND", Ne = "NE", Ng = "NG", Nl = "NL", Nn = "NN",
        No = "NO", Nr = "NR", Nv = "NV", Ny = "NY", Oc = "OC", Oj = "OJ", Om = "OM", Or = "OR", Os = "OS",
        Pa = "PA", Pi = "PI", Pl = "PL", Ps = "PS", Pt = "PT", Qu = "QU", Rm = "RM", Rn = "RN", Ro = "RO",
        Ru = "RU", Rw = "RW", Sa = "SA", Sc = "SC", Sd = "SD", Se = "SE", Sg = "SG", Si = "SI", Sk = "SK",
        Sl = "SL", Sm = "SM", Sn = "SN", So = "SO", Sq = "SQ", Sr = "SR", Ss = "SS", St = "ST", Su = "SU",
        Sv = "SV", Sw = "SW", Ta = "TA", Te = "TE", Tg = "TG", Th = "TH", Ti = "TI", Tk = "TK", Tl = "TL",
        Tn = "TN", To = "TO", Tr = "TR", Ts = "TS", Tt = "TT", Tw = "TW", Ty = "TY", Ug = "UG", Uk = "UK",
        Ur = "UR", Uz = "UZ", Ve = "VE", Vi = "VI", Vo = "VO", Wa = "WA", Wo = "WO", Xh = "XH", Yi = "YI",
        Yo = "YO", Za = "ZA", Zh = "ZH", Zu = "ZU",
    }
}
