//! The EU DSA Transparency Database's statement categories and keywords, with Dutch and English labels.
//!
//! Values are exactly those the Transparency Database accepts since the 1 July 2025 schema
//! (specs/dsa.md §3.3, §3.6). Notices use them from intake on, so that every later decision can be
//! exported without a lossy mapping. Like the database, we do not tie keywords to one category:
//! the grouping below is for presentation (the public form and `GET /api/v1/categories`).

use serde::Serialize;

/// A label in the two languages the public form speaks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Label {
    /// English.
    pub en: &'static str,
    /// Dutch.
    pub nl: &'static str,
}

/// One `KEYWORD_*` value (Transparency Database `category_specification`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Keyword {
    /// The database value, e.g. `KEYWORD_NON_CONSENSUAL_IMAGE_SHARING`.
    pub id: &'static str,
    /// Human label.
    pub label: Label,
}

/// One `STATEMENT_CATEGORY_*` value with the keywords grouped under it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Category {
    /// The database value, e.g. `STATEMENT_CATEGORY_CYBER_VIOLENCE`.
    pub id: &'static str,
    /// Human label.
    pub label: Label,
    /// Keywords shown under this category (the catch-all `KEYWORD_OTHER` is listed everywhere).
    pub keywords: &'static [Keyword],
}

macro_rules! kw {
    ($id:literal, $en:literal, $nl:literal) => {
        Keyword { id: concat!("KEYWORD_", $id), label: Label { en: $en, nl: $nl } }
    };
}

const OTHER: Keyword =
    kw!("OTHER", "Other (not captured by any other keyword)", "Anders (valt onder geen ander trefwoord)");

/// Every category, in the database's order.
pub static CATEGORIES: &[Category] = &[
    Category {
        id: "STATEMENT_CATEGORY_ANIMAL_WELFARE",
        label: Label { en: "Animal welfare", nl: "Dierenwelzijn" },
        keywords: &[
            kw!("ANIMAL_HARM", "Animal harm", "Dierenleed"),
            kw!("UNLAWFUL_SALE_ANIMALS", "Unlawful sale of animals", "Illegale verkoop van dieren"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
        label: Label { en: "Consumer information infringements", nl: "Schending van consumenteninformatie" },
        keywords: &[
            kw!("HIDDEN_ADVERTISEMENT", "Hidden advertisement or commercial communication", "Verborgen reclame"),
            kw!(
                "INSUFFICIENT_INFORMATION_ON_TRADERS",
                "Insufficient information on traders",
                "Onvoldoende informatie over handelaren"
            ),
            kw!(
                "MISLEADING_INFO_GOODS_SERVICES",
                "Misleading information about goods and services",
                "Misleidende informatie over goederen en diensten"
            ),
            kw!(
                "MISLEADING_INFO_CONSUMER_RIGHTS",
                "Misleading information about consumer rights",
                "Misleidende informatie over consumentenrechten"
            ),
            kw!("NONCOMPLIANCE_PRICING", "Non-compliance with pricing regulations", "Niet naleven van prijsregels"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        label: Label { en: "Cyber violence", nl: "Online geweld" },
        keywords: &[
            kw!("CYBER_BULLYING_INTIMIDATION", "Cyber bullying and intimidation", "Online pesten en intimidatie"),
            kw!("CYBER_HARASSMENT", "Cyber harassment", "Online intimidatie"),
            kw!("CYBER_INCITEMENT", "Cyber incitement to violence or hatred", "Online aanzetten tot geweld of haat"),
            kw!("CYBER_STALKING", "Cyber stalking", "Online stalking"),
            kw!(
                "NON_CONSENSUAL_IMAGE_SHARING",
                "Non-consensual (intimate) image sharing",
                "Delen van (intieme) beelden zonder toestemming"
            ),
            kw!(
                "NON_CONSENSUAL_MATERIAL_DEEPFAKE",
                "Non-consensual deepfake or manipulated material",
                "Deepfake of bewerkt beeld zonder toestemming"
            ),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
        label: Label { en: "Cyber violence against women", nl: "Online geweld tegen vrouwen" },
        keywords: &[
            kw!("BULLYING_AGAINST_GIRLS", "Bullying against girls", "Pesten van meisjes"),
            kw!("CYBER_HARASSMENT_AGAINST_WOMEN", "Cyber harassment against women", "Online intimidatie van vrouwen"),
            kw!("CYBER_STALKING_AGAINST_WOMEN", "Cyber stalking against women", "Online stalking van vrouwen"),
            kw!(
                "FEMALE_GENDERED_DISINFORMATION",
                "Gendered disinformation against women",
                "Gendergerelateerde desinformatie over vrouwen"
            ),
            kw!(
                "INCITEMENT_AGAINST_WOMEN",
                "Incitement to violence or hatred against women",
                "Aanzetten tot geweld of haat tegen vrouwen"
            ),
            kw!(
                "NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
                "Non-consensual (intimate) image sharing against women",
                "Delen van (intieme) beelden van vrouwen zonder toestemming"
            ),
            kw!(
                "NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
                "Non-consensual deepfake material against women",
                "Deepfake van vrouwen zonder toestemming"
            ),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        label: Label {
            en: "Data protection and privacy violations",
            nl: "Schending van privacy en gegevensbescherming",
        },
        keywords: &[
            kw!("BIOMETRIC_DATA_BREACH", "Biometric data breach", "Lek van biometrische gegevens"),
            kw!("DATA_FALSIFICATION", "Data falsification", "Vervalsing van gegevens"),
            kw!("MISSING_PROCESSING_GROUND", "Missing processing ground for data", "Geen grondslag voor verwerking"),
            kw!("RIGHT_TO_BE_FORGOTTEN", "Right to be forgotten", "Recht op vergetelheid"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        label: Label { en: "Illegal or harmful speech", nl: "Illegale of schadelijke uitingen" },
        keywords: &[
            kw!("DEFAMATION", "Defamation", "Smaad of laster"),
            kw!("DISCRIMINATION", "Discrimination", "Discriminatie"),
            kw!("HATE_SPEECH", "Illegal incitement to violence and hatred", "Haatzaaien"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        label: Label { en: "Intellectual property infringements", nl: "Inbreuk op intellectueel eigendom" },
        keywords: &[
            kw!("COPYRIGHT_INFRINGEMENT", "Copyright infringement", "Inbreuk op auteursrecht"),
            kw!("DESIGN_INFRINGEMENT", "Design infringement", "Inbreuk op modelrecht"),
            kw!(
                "GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
                "Geographical indications infringements",
                "Inbreuk op geografische aanduidingen"
            ),
            kw!("PATENT_INFRINGEMENT", "Patent infringement", "Inbreuk op octrooi"),
            kw!("TRADE_SECRET_INFRINGEMENT", "Trade secret infringement", "Inbreuk op bedrijfsgeheim"),
            kw!("TRADEMARK_INFRINGEMENT", "Trademark infringement", "Inbreuk op merkrecht"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        label: Label {
            en: "Negative effects on civic discourse or elections",
            nl: "Negatieve gevolgen voor publiek debat of verkiezingen",
        },
        keywords: &[
            kw!("MISINFORMATION_DISINFORMATION", "Misinformation and disinformation", "Misinformatie en desinformatie"),
            kw!(
                "VIOLATION_EU_LAW",
                "Violation of EU law relevant to civic discourse or elections",
                "Schending van EU-recht (publiek debat of verkiezingen)"
            ),
            kw!(
                "VIOLATION_NATIONAL_LAW",
                "Violation of national law relevant to civic discourse or elections",
                "Schending van nationaal recht (publiek debat of verkiezingen)"
            ),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
        label: Label { en: "Not specified in the notice", nl: "Niet gespecificeerd in de melding" },
        keywords: &[OTHER],
    },
    Category {
        id: "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        label: Label {
            en: "Other violation of terms and conditions",
            nl: "Andere schending van de gebruiksvoorwaarden",
        },
        keywords: &[
            kw!("ADULT_SEXUAL_MATERIAL", "Adult sexual material", "Seksueel materiaal voor volwassenen"),
            kw!("AGE_SPECIFIC_RESTRICTIONS", "Age-specific restrictions", "Leeftijdsbeperkingen"),
            kw!("GEOGRAPHICAL_REQUIREMENTS", "Geographical requirements", "Geografische vereisten"),
            kw!(
                "GOODS_SERVICES_NOT_PERMITTED",
                "Goods or services not permitted to be offered",
                "Niet toegestane goederen of diensten"
            ),
            kw!("LANGUAGE_REQUIREMENTS", "Language requirements", "Taalvereisten"),
            kw!("NUDITY", "Nudity", "Naaktheid"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        label: Label { en: "Protection of minors", nl: "Bescherming van minderjarigen" },
        keywords: &[
            kw!(
                "AGE_SPECIFIC_RESTRICTIONS_MINORS",
                "Age-specific restrictions concerning minors",
                "Leeftijdsbeperkingen voor minderjarigen"
            ),
            kw!(
                "CHILD_SEXUAL_ABUSE_MATERIAL",
                "Child sexual abuse material",
                "Seksueel misbruikmateriaal van kinderen"
            ),
            kw!(
                "CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
                "Child sexual abuse material (deepfake)",
                "Seksueel misbruikmateriaal van kinderen (deepfake)"
            ),
            kw!(
                "GROOMING_SEXUAL_ENTICEMENT_MINORS",
                "Grooming or sexual enticement of minors",
                "Grooming of seksueel benaderen van minderjarigen"
            ),
            kw!("UNSAFE_CHALLENGES", "Unsafe challenges", "Gevaarlijke uitdagingen (challenges)"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        label: Label { en: "Risk for public security", nl: "Risico voor de openbare veiligheid" },
        keywords: &[
            kw!("ILLEGAL_ORGANIZATIONS", "Illegal organisations", "Verboden organisaties"),
            kw!("RISK_ENVIRONMENTAL_DAMAGE", "Risk for environmental damage", "Risico op milieuschade"),
            kw!("RISK_PUBLIC_HEALTH", "Risk for public health", "Risico voor de volksgezondheid"),
            kw!("TERRORIST_CONTENT", "Terrorist content", "Terroristische inhoud"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        label: Label { en: "Scams and/or fraud", nl: "Oplichting en fraude" },
        keywords: &[
            kw!(
                "IMPERSONATION_ACCOUNT_HIJACKING",
                "Impersonation or account hijacking",
                "Imitatie of overname van accounts"
            ),
            kw!("INAUTHENTIC_ACCOUNTS", "Inauthentic accounts", "Nepaccounts"),
            kw!("INAUTHENTIC_LISTINGS", "Inauthentic listings", "Nepadvertenties"),
            kw!("INAUTHENTIC_USER_REVIEWS", "Inauthentic user reviews", "Nepbeoordelingen"),
            kw!("PHISHING", "Phishing", "Phishing"),
            kw!("PYRAMID_SCHEMES", "Pyramid schemes", "Piramidespelen"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_SELF_HARM",
        label: Label { en: "Self-harm", nl: "Zelfbeschadiging" },
        keywords: &[
            kw!(
                "CONTENT_PROMOTING_EATING_DISORDERS",
                "Content promoting eating disorders",
                "Inhoud die eetstoornissen aanmoedigt"
            ),
            kw!("SELF_MUTILATION", "Self-mutilation", "Zelfverwonding"),
            kw!("SUICIDE", "Suicide", "Zelfdoding"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
        label: Label { en: "Unsafe and/or prohibited products", nl: "Onveilige of verboden producten" },
        keywords: &[
            kw!("PROHIBITED_PRODUCTS", "Prohibited or restricted products", "Verboden of beperkte producten"),
            kw!("UNSAFE_PRODUCTS", "Unsafe or non-compliant products", "Onveilige producten"),
            OTHER,
        ],
    },
    Category {
        id: "STATEMENT_CATEGORY_VIOLENCE",
        label: Label { en: "Violence", nl: "Geweld" },
        keywords: &[
            kw!("COORDINATED_HARM", "Coordinated harm", "Gecoördineerde schade"),
            kw!(
                "INCITEMENT_VIOLENCE_HATRED",
                "General calls or incitement to violence and/or hatred",
                "Oproepen of aanzetten tot geweld of haat"
            ),
            kw!("HUMAN_EXPLOITATION", "Human exploitation", "Uitbuiting"),
            kw!("HUMAN_TRAFFICKING", "Human trafficking", "Mensenhandel"),
            kw!("TRAFFICKING_WOMEN_GIRLS", "Trafficking in women and girls", "Handel in vrouwen en meisjes"),
            OTHER,
        ],
    },
];

/// Legacy keyword the database still accepts but lists in no group (specs/dsa.md §3.3).
const LEGACY_KEYWORDS: &[&str] = &["KEYWORD_STALKING"];

/// Keywords that name child sexual abuse material: Art. 16(2)(c) lets such notices be anonymous.
pub const CSAM_KEYWORDS: &[&str] =
    &["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"];

/// Looks up a category by its database value.
pub fn category(id: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

/// Looks up a keyword by its database value (the first group that lists it; `KEYWORD_OTHER` and
/// the legacy `KEYWORD_STALKING` have no group of their own: `None` for the latter).
pub fn keyword(id: &str) -> Option<&'static Keyword> {
    CATEGORIES.iter().flat_map(|c| c.keywords.iter()).find(|k| k.id == id)
}

/// Whether the database accepts this keyword value (with any category, as it does).
pub fn is_keyword(id: &str) -> bool {
    LEGACY_KEYWORDS.contains(&id) || CATEGORIES.iter().any(|c| c.keywords.iter().any(|k| k.id == id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn keywords_are_found_with_their_labels() {
        let k = keyword("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING").expect("listed");
        assert_eq!(k.id, "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING");
        assert!(!k.label.en.is_empty() && !k.label.nl.is_empty() && k.label.en != k.label.nl);
        assert!(keyword("KEYWORD_NOT_A_KEYWORD").is_none());
    }

    #[test]
    fn sixteen_categories_and_sixty_nine_keywords_as_in_the_database() {
        assert_eq!(CATEGORIES.len(), 16);
        let keywords: BTreeSet<&str> = CATEGORIES.iter().flat_map(|c| c.keywords.iter().map(|k| k.id)).collect();
        // 67 grouped keywords plus the catch-all OTHER, and the legacy STALKING: the database's 69.
        assert_eq!(keywords.len() + LEGACY_KEYWORDS.len(), 69);
        assert!(keywords.iter().all(|k| k.starts_with("KEYWORD_")));
        assert!(CATEGORIES.iter().all(|c| c.id.starts_with("STATEMENT_CATEGORY_")));
    }

    #[test]
    fn lookups() {
        assert!(category("STATEMENT_CATEGORY_CYBER_VIOLENCE").is_some());
        assert!(category("STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT").is_none(), "removed in 2025");
        assert!(is_keyword("KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"));
        assert!(is_keyword("KEYWORD_STALKING"));
        assert!(!is_keyword("KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE"), "renamed in 2025");
        assert!(CSAM_KEYWORDS.iter().all(|k| is_keyword(k)));
    }
}
