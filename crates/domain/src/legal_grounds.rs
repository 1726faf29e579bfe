//! The catalogue of legal grounds a notice or decision may cite.
//!
//! Ships the Dutch grounds named in the 2025–2026 answers to parliament (specs/dsa.md §7) and
//! generic EU ones. A decision on the ground "illegal content" (DSA Art. 17(3)(d)) cites one of
//! these; the Transparency Database receives its `reference` text as `illegal_content_legal_ground`.

use serde::Serialize;

use crate::taxonomy::Label;

/// One legal ground.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LegalGround {
    /// Stable id used in the API, e.g. `nl-sr-254ba`.
    pub id: &'static str,
    /// Jurisdiction: an ISO country code or `EU`.
    pub jurisdiction: &'static str,
    /// The provision as cited, e.g. `art. 254ba Wetboek van Strafrecht`.
    pub reference: &'static str,
    /// What it covers, in plain words.
    pub label: Label,
}

impl LegalGround {
    /// The provision as cited in language `lang` (`nl` or anything else for English): Dutch
    /// provisions are cited in Dutch everywhere; EU acts by their titles in the Dutch versions on
    /// EUR-Lex ("Verordening", "Richtlijn", "AVG") for `nl`, as in [`LegalGround::reference`] otherwise.
    pub fn reference_in(&self, lang: &str) -> &'static str {
        if lang != "nl" {
            return self.reference;
        }
        match self.id {
            "eu-gdpr" => "Verordening (EU) 2016/679 (AVG), art. 6",
            "eu-dir-2011-93" => "Richtlijn 2011/93/EU, art. 3–7",
            "eu-dir-2024-1385" => "Richtlijn (EU) 2024/1385, art. 5",
            "eu-reg-2021-784" => "Verordening (EU) 2021/784",
            _ => self.reference,
        }
    }
}

macro_rules! ground {
    ($id:literal, $j:literal, $reference:literal, $en:literal, $nl:literal) => {
        LegalGround { id: $id, jurisdiction: $j, reference: $reference, label: Label { en: $en, nl: $nl } }
    };
}

/// The built-in catalogue.
pub static LEGAL_GROUNDS: &[LegalGround] = &[
    ground!(
        "nl-sr-252",
        "NL",
        "art. 252 Wetboek van Strafrecht",
        "Sexual imagery of a person (apparently) under 18, also when AI-generated",
        "Seksuele afbeeldingen van een persoon die (schijnbaar) jonger is dan 18, ook als die met AI zijn gemaakt"
    ),
    ground!(
        "nl-sr-254ba",
        "NL",
        "art. 254ba Wetboek van Strafrecht",
        "Making, possessing or publishing sexual imagery of a person without consent, including fake or deepfake nude images",
        "Zonder toestemming maken, bezitten of openbaar maken van seksuele beelden van iemand, ook nep- of deepfake-naaktbeelden"
    ),
    ground!(
        "nl-sr-285d",
        "NL",
        "art. 285d Wetboek van Strafrecht",
        "Doxing: using personal data to intimidate",
        "Doxing: persoonsgegevens gebruiken om iemand te intimideren"
    ),
    ground!("nl-sr-261", "NL", "art. 261 Wetboek van Strafrecht", "Defamation (smaad)", "Smaad"),
    ground!(
        "nl-sr-262",
        "NL",
        "art. 262 Wetboek van Strafrecht",
        "Defamation knowing it to be false (laster)",
        "Laster"
    ),
    ground!(
        "nl-sr-317",
        "NL",
        "art. 317 Wetboek van Strafrecht",
        "Extortion, including sextortion",
        "Afpersing, ook sextortion"
    ),
    ground!(
        "nl-sr-318",
        "NL",
        "art. 318 Wetboek van Strafrecht",
        "Blackmail, including threatening to publish sexual images",
        "Afdreiging, ook dreigen met het verspreiden van seksuele beelden"
    ),
    ground!(
        "nl-sr-240-243",
        "NL",
        "art. 240–243 Wetboek van Strafrecht",
        "Sexual assault and rape, including coercion by threatening to publish (fake) sexual imagery",
        "Aanranding en verkrachting, ook dwang door te dreigen met (nep)seksuele beelden"
    ),
    ground!(
        "nl-aw-21",
        "NL",
        "art. 21 Auteurswet",
        "Portrait right: publishing a portrait against the person's reasonable interest",
        "Portretrecht: openbaarmaking van een portret tegen een redelijk belang van de geportretteerde"
    ),
    ground!("nl-bw-6-162", "NL", "art. 6:162 Burgerlijk Wetboek", "Unlawful act (civil law)", "Onrechtmatige daad"),
    ground!(
        "eu-gdpr",
        "EU",
        "Regulation (EU) 2016/679 (GDPR), art. 6",
        "Processing a person's features (e.g. in a deepfake) without a legal basis",
        "Verwerking van iemands kenmerken (bijv. in een deepfake) zonder grondslag (AVG)"
    ),
    ground!(
        "eu-dir-2011-93",
        "EU",
        "Directive 2011/93/EU, arts. 3–7",
        "Sexual abuse and sexual exploitation of children, child sexual abuse material",
        "Seksueel misbruik en seksuele uitbuiting van kinderen, kindermisbruikmateriaal"
    ),
    ground!(
        "eu-dir-2024-1385",
        "EU",
        "Directive (EU) 2024/1385, art. 5",
        "Non-consensual sharing of intimate or manipulated material",
        "Verspreiding zonder toestemming van intieme of gemanipuleerde beelden"
    ),
    ground!(
        "eu-reg-2021-784",
        "EU",
        "Regulation (EU) 2021/784",
        "Terrorist content online",
        "Terroristische online-inhoud"
    ),
];

/// Looks up a ground by id.
pub fn legal_ground(id: &str) -> Option<&'static LegalGround> {
    LEGAL_GROUNDS.iter().find(|g| g.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eu_acts_are_cited_by_their_dutch_titles_on_dutch_pages() {
        for g in LEGAL_GROUNDS.iter().filter(|g| g.jurisdiction == "EU") {
            let nl = g.reference_in("nl");
            assert!(nl.starts_with("Verordening") || nl.starts_with("Richtlijn"), "{}: {nl}", g.id);
            assert_eq!(g.reference_in("en"), g.reference);
        }
        let nl_ground = legal_ground("nl-sr-254ba").expect("listed");
        assert_eq!(nl_ground.reference_in("nl"), nl_ground.reference_in("en"));
    }

    #[test]
    fn ids_are_unique_and_the_dutch_grounds_of_the_spec_are_there() {
        let mut ids: Vec<_> = LEGAL_GROUNDS.iter().map(|g| g.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), LEGAL_GROUNDS.len());
        for id in ["nl-sr-252", "nl-sr-254ba", "nl-sr-285d", "nl-sr-261", "nl-sr-262", "nl-sr-317", "nl-sr-318"] {
            assert!(legal_ground(id).is_some(), "{id}");
        }
    }
}
