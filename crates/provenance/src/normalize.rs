//! Normalisation of raw tool strings ("Adobe_Photoshop/26.9.0 adobe_c2pa/0.12.2") to one name per
//! tool ("Adobe Photoshop"), so reports can count by generator (issue 6; DSA Art. 15/24
//! transparency statistics).
//!
//! The table is data (`data/generators.toml`, embedded with `include_str!`) so that adding a
//! generator is a one-entry change reviewed like any other text. Matching is on whole words after
//! folding case and punctuation, which folds versions and separators without regexes; the first
//! matching entry wins.

use std::sync::OnceLock;

use serde::Deserialize;

/// The built-in table, as shipped in `data/generators.toml`.
pub const BUILTIN_TABLE: &str = include_str!("../data/generators.toml");

/// What a known tool does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolKind {
    /// Generates synthetic images (a generative-AI tool).
    Ai,
    /// Edits images; never reported as the generator.
    Editor,
    /// A camera or phone maker (EXIF `Make`/`Model`): shown to reviewers, implies nothing.
    Camera,
    /// A signing library or SDK ("Google C2PA Core Generator Library", "c2pa-rs"): it wrote the
    /// manifest, it did not make the image; never a generator, implies nothing.
    Library,
}

/// A raw string after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedTool {
    /// The table's name, or the raw string trimmed when no entry matched.
    pub name: String,
    /// The table's kind; `None` when no entry matched.
    pub kind: Option<ToolKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    tool: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    kind: ToolKind,
    patterns: Vec<String>,
    /// The signals the tool has been recognised by (documentation, checked non-empty).
    recognised_by: Vec<String>,
}

/// A normalisation table parsed from TOML (see `data/generators.toml` for the format).
#[derive(Debug, Clone)]
pub struct GeneratorTable {
    /// (name, kind, folded patterns padded with spaces), in file order.
    entries: Vec<(String, ToolKind, Vec<String>)>,
}

/// Error for a table that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid generator table: {0}")]
pub struct TableError(String);

impl GeneratorTable {
    /// Parses a table in the format of `data/generators.toml`.
    ///
    /// # Errors
    /// [`TableError`] when the TOML is invalid, has unknown fields, or an entry has an empty name
    /// or a pattern that folds to nothing.
    pub fn from_toml(text: &str) -> Result<Self, TableError> {
        let file: TableFile = toml::from_str(text).map_err(|err| TableError(err.to_string()))?;
        let mut entries = Vec::with_capacity(file.tool.len());
        for entry in file.tool {
            if entry.name.trim().is_empty() {
                return Err(TableError("entry with an empty name".to_owned()));
            }
            if entry.recognised_by.is_empty() {
                return Err(TableError(format!("entry {:?} names no signal it is recognised by", entry.name)));
            }
            let mut patterns = Vec::with_capacity(entry.patterns.len());
            for pattern in &entry.patterns {
                let folded = fold(pattern);
                if folded.trim().is_empty() {
                    return Err(TableError(format!("empty pattern in entry {:?}", entry.name)));
                }
                patterns.push(folded);
            }
            entries.push((entry.name, entry.kind, patterns));
        }
        Ok(Self { entries })
    }

    /// Maps a raw string to its tool: the first entry with a pattern that occurs in it as whole
    /// words, else the raw string trimmed (kind `None`).
    #[must_use]
    pub fn normalize(&self, raw: &str) -> NormalizedTool {
        let folded = fold(raw);
        for (name, kind, patterns) in &self.entries {
            if patterns.iter().any(|pattern| folded.contains(pattern.as_str())) {
                return NormalizedTool { name: name.clone(), kind: Some(*kind) };
            }
        }
        NormalizedTool { name: raw.trim().to_owned(), kind: None }
    }

    /// Number of entries (tools) in the table.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Lower-cases and turns every run of non-alphanumeric characters into one space, padded with a
/// space on both sides so that `contains(" pattern ")` is a whole-word match.
fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push(' ');
    for ch in raw.chars() {
        if ch.is_alphanumeric() {
            out.extend(ch.to_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// The built-in table, parsed once.
pub fn builtin() -> &'static GeneratorTable {
    static TABLE: OnceLock<GeneratorTable> = OnceLock::new();
    TABLE.get_or_init(|| match GeneratorTable::from_toml(BUILTIN_TABLE) {
        Ok(table) => table,
        // The table is compiled in and a unit test parses it, so this only fires if someone
        // ships a broken table without running the tests; an empty table then degrades to
        // passing raw strings through rather than taking the service down.
        Err(_) => GeneratorTable { entries: Vec::new() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, name: &str, kind: Option<ToolKind>) {
        let got = builtin().normalize(raw);
        assert_eq!(got, NormalizedTool { name: name.to_owned(), kind }, "raw {raw:?}");
    }

    #[test]
    fn builtin_table_parses() {
        let table = GeneratorTable::from_toml(BUILTIN_TABLE).expect("builtin table");
        assert!(table.len() >= 15);
    }

    #[test]
    fn versions_vendors_and_separators_fold() {
        use ToolKind::{Ai, Editor, Library};
        let rows: &[(&str, &str, Option<ToolKind>)] = &[
            ("Adobe_Photoshop/26.9.0 adobe_c2pa/0.12.2 c2pa-rs/0.51.1", "Adobe Photoshop", Some(Editor)),
            ("Adobe Photoshop 24.1 (Windows)", "Adobe Photoshop", Some(Editor)),
            ("Adobe Firefly", "Adobe Firefly", Some(Ai)),
            ("Adobe_Firefly/0.1.0 adobe_c2pa/0.7.6", "Adobe Firefly", Some(Ai)),
            ("Midjourney 6.1", "Midjourney", Some(Ai)),
            ("DALL·E 3", "DALL·E / OpenAI", Some(Ai)),
            ("DALL-E", "DALL·E / OpenAI", Some(Ai)),
            ("OpenAI-API", "DALL·E / OpenAI", Some(Ai)),
            ("ChatGPT", "DALL·E / OpenAI", Some(Ai)),
            ("gpt-image-1", "DALL·E / OpenAI", Some(Ai)),
            ("Google Imagen 3", "Google Imagen/Gemini", Some(Ai)),
            ("Made with Google AI", "Google Imagen/Gemini", Some(Ai)),
            ("Grok 2", "Grok / xAI", Some(Ai)),
            ("xAI", "Grok / xAI", Some(Ai)),
            ("flux1-dev.safetensors", "Flux", Some(Ai)),
            ("FLUX.1 [pro]", "Flux", Some(Ai)),
            ("Stable Diffusion web UI", "Stable Diffusion web UI", Some(Ai)),
            ("stable-diffusion-webui-forge", "Stable Diffusion web UI", Some(Ai)),
            ("Grok Imagine", "Grok / xAI", Some(Ai)),
            ("Gemini 2.5 Flash Image (Nano Banana)", "Google Imagen/Gemini", Some(Ai)),
            ("GPT-4o", "DALL·E / OpenAI", Some(Ai)),
            ("Clothoff.io", "Clothoff", Some(Ai)),
            ("undress.app", "Undress AI", Some(Ai)),
            ("DeepNude", "DeepNude", Some(Ai)),
            ("a nudify app", "Nudify app (other)", Some(Ai)),
            ("Fooocus 2.5", "Fooocus", Some(Ai)),
            ("Google C2PA Core Generator Library", "Google C2PA Core Generator Library", Some(Library)),
            ("c2pa-rs/0.51.1", "C2PA SDK", Some(Library)),
            ("Aurora HDR 2019", "Aurora HDR 2019", None),
            ("Canon EOS 5D Mark IV", "Canon", Some(ToolKind::Camera)),
            ("iPhone 15 Pro", "Apple", Some(ToolKind::Camera)),
            ("sd_xl_base_1.0 (SDXL)", "Stable Diffusion", Some(Ai)),
            ("NovelAI", "NovelAI", Some(Ai)),
            ("ComfyUI", "ComfyUI", Some(Ai)),
            ("InvokeAI", "InvokeAI", Some(Ai)),
            ("GIMP 2.10.34", "GIMP", Some(Editor)),
            ("Adobe Photoshop Lightroom Classic 13.0", "Adobe Lightroom", Some(Editor)),
            ("paint.net 5.0", "Paint.NET", Some(Editor)),
        ];
        for (raw, name, kind) in rows {
            check(raw, name, *kind);
        }
    }

    #[test]
    fn unknown_strings_pass_through_trimmed() {
        check("  make_test_images/0.33.1 ", "make_test_images/0.33.1", None);
        check("Ver.1.00", "Ver.1.00", None);
    }

    #[test]
    fn patterns_match_whole_words_only() {
        // "xai" must not match inside another word, nor "gimp" inside "gimpy".
        check("Maxairo", "Maxairo", None);
        check("gimpy", "gimpy", None);
        check("Dallas camera", "Dallas camera", None);
    }

    #[test]
    fn custom_tables_are_checked() {
        let by = "recognised_by = [\"EXIF Software\"]\n";
        assert!(
            GeneratorTable::from_toml(&format!("[[tool]]\nname = \"X\"\nkind = \"ai\"\npatterns = [\"--\"]\n{by}"))
                .is_err()
        );
        assert!(
            GeneratorTable::from_toml(&format!("[[tool]]\nname = \"X\"\nkind = \"robot\"\npatterns = [\"x\"]\n{by}"))
                .is_err()
        );
        assert!(GeneratorTable::from_toml("[[tool]]\nname = \"X\"\nkind = \"ai\"\npatterns = [\"x\"]\n").is_err());
        let table = GeneratorTable::from_toml(&format!(
            "[[tool]]\nname = \"Acme Gen\"\nkind = \"ai\"\npatterns = [\"acme gen\"]\n{by}"
        ))
        .expect("table");
        assert_eq!(table.normalize("ACME-Gen v2").name, "Acme Gen");
    }
}
