//! XMP packet reader: the IPTC `DigitalSourceType` property and the tool names around it.
//!
//! Implements IPTC Photo Metadata Standard 2023.2+ `Iptc4xmpExt:DigitalSourceType` (the marking
//! IPTC recommends for generative-AI output, and one way providers meet EU AI Act Art. 50(2)
//! machine-readable marking), plus Adobe XMP `xmp:CreatorTool`, `xmpMM:History` software agents,
//! `photoshop:Credit` and `dcterms:provenance` (a pointer to a C2PA manifest).
//!
//! Names are matched by namespace URI, not prefix (prefixes are arbitrary in XMP). Every RDF
//! serialisation of a simple property is accepted: attribute, element text, and `rdf:resource`.
//! The reader is bounded by packet size, element depth, event count and namespace bindings.

use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::{NsReader, XmlVersion};

use crate::{Limits, MetadataError};

const NS_IPTC_EXT: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";
const NS_XMP: &str = "http://ns.adobe.com/xap/1.0/";
const NS_STEVT: &str = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#";
const NS_PHOTOSHOP: &str = "http://ns.adobe.com/photoshop/1.0/";
const NS_DCTERMS: &str = "http://purl.org/dc/terms/";
const NS_RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// A property we read, with the prefixed name used as the signal key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// `Iptc4xmpExt:DigitalSourceType`: IPTC digital source type URI.
    DigitalSourceType,
    /// `xmp:CreatorTool`: the tool that created the resource.
    CreatorTool,
    /// `stEvt:softwareAgent` inside `xmpMM:History`: a tool that acted on the resource.
    HistorySoftwareAgent,
    /// `photoshop:Credit`: the credit line ("Made with Google AI" is one documented use).
    Credit,
    /// `dcterms:provenance`: a reference to a C2PA manifest store.
    Provenance,
}

impl Property {
    /// The conventional prefixed name, used as signal key.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::DigitalSourceType => "Iptc4xmpExt:DigitalSourceType",
            Self::CreatorTool => "xmp:CreatorTool",
            Self::HistorySoftwareAgent => "xmpMM:History/stEvt:softwareAgent",
            Self::Credit => "photoshop:Credit",
            Self::Provenance => "dcterms:provenance",
        }
    }

    fn from_name(namespace: &str, local: &str) -> Option<Self> {
        match (namespace, local) {
            (NS_IPTC_EXT, "DigitalSourceType") => Some(Self::DigitalSourceType),
            (NS_XMP, "CreatorTool") => Some(Self::CreatorTool),
            (NS_STEVT, "softwareAgent") => Some(Self::HistorySoftwareAgent),
            (NS_PHOTOSHOP, "Credit") => Some(Self::Credit),
            (NS_DCTERMS, "provenance") => Some(Self::Provenance),
            _ => None,
        }
    }
}

/// Parses one XMP packet and returns the properties of interest in document order.
///
/// # Errors
/// [`MetadataError::Xml`] for ill-formed XML or non-UTF-8 bytes; [`MetadataError::LimitExceeded`]
/// when the packet exceeds the size, depth or event limits. Properties read before the error are
/// lost with it: a packet that is not well-formed is not trusted piecemeal.
pub fn parse(packet: &[u8], limits: &Limits) -> Result<Vec<(Property, String)>, MetadataError> {
    if packet.len() > limits.max_xmp_bytes {
        return Err(MetadataError::LimitExceeded { what: "XMP packet bytes", limit: limits.max_xmp_bytes });
    }
    let text = std::str::from_utf8(packet).map_err(|err| MetadataError::Xml(format!("not UTF-8: {err}")))?;
    // Packets may carry a BOM; the `<?xpacket?>` wrapper is a PI and is skipped by the reader.
    let text = text.trim_start_matches('\u{FEFF}');
    let mut reader = NsReader::from_str(text);
    // Bounds the namespace-binding stack (quick-xml issue 970) independently of depth.
    reader.resolver_mut().set_max_namespace_bindings(256);

    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut events = 0usize;
    // The property element currently open and the text collected for it.
    let mut open: Option<(Property, usize, String)> = None;
    loop {
        events += 1;
        if events > limits.max_xml_events {
            return Err(MetadataError::LimitExceeded { what: "XMP events", limit: limits.max_xml_events });
        }
        let (resolved, event) = reader.read_resolved_event().map_err(|err| MetadataError::Xml(err.to_string()))?;
        let property = property_of(&resolved, &event);
        match event {
            Event::Start(start) => {
                depth += 1;
                if depth > limits.max_xml_depth {
                    return Err(MetadataError::LimitExceeded {
                        what: "XMP nesting depth",
                        limit: limits.max_xml_depth,
                    });
                }
                attributes(&reader, &start, &mut found)?;
                if let Some(property) = property {
                    match resource_attribute(&reader, &start)? {
                        Some(value) => found.push((property, value)),
                        None => open = Some((property, depth, String::new())),
                    }
                }
            }
            Event::Empty(start) => {
                if depth + 1 > limits.max_xml_depth {
                    return Err(MetadataError::LimitExceeded {
                        what: "XMP nesting depth",
                        limit: limits.max_xml_depth,
                    });
                }
                attributes(&reader, &start, &mut found)?;
                if let Some(property) = property
                    && let Some(value) = resource_attribute(&reader, &start)?
                {
                    found.push((property, value));
                }
            }
            Event::End(_) => {
                if let Some((property, _, value)) = open.take_if(|(_, level, _)| *level == depth) {
                    let value = value.trim();
                    if !value.is_empty() {
                        found.push((property, value.to_owned()));
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(text) => append(&mut open, depth, &text.xml10_content(), limits),
            Event::CData(data) => append(&mut open, depth, &data.xml10_content(), limits),
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference.resolve_char_ref().map_err(|err| MetadataError::Xml(err.to_string()))?.map(String::from)
                } else {
                    resolve_xml_entity(&reference).map(str::to_owned)
                };
                let Some(resolved) = resolved else {
                    return Err(MetadataError::Xml(format!("unknown entity &{};", &*reference)));
                };
                append(&mut open, depth, &resolved, limits);
            }
            // A DOCTYPE could declare entities; XMP never needs one, so refuse it outright.
            Event::DocType(_) => {
                return Err(MetadataError::Xml("DOCTYPE is not allowed in XMP".to_owned()));
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    Ok(found)
}

/// Text is collected only while the property element itself is the innermost open element
/// (simple values; `rdf:Alt`/`rdf:Seq` items are one level deeper and are collected too).
fn append(open: &mut Option<(Property, usize, String)>, depth: usize, text: &str, limits: &Limits) {
    if let Some((_, level, value)) = open.as_mut()
        && depth >= *level
        && value.len() < limits.max_xmp_bytes
    {
        value.push_str(text);
    }
}

fn property_of(resolved: &ResolveResult<'_>, event: &Event<'_>) -> Option<Property> {
    let (Event::Start(start) | Event::Empty(start)) = event else {
        return None;
    };
    match resolved {
        ResolveResult::Bound(Namespace(namespace)) => Property::from_name(namespace, start.local_name().as_ref()),
        _ => None,
    }
}

/// Properties written as attributes of `rdf:Description` (the compact RDF form).
fn attributes(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    found: &mut Vec<(Property, String)>,
) -> Result<(), MetadataError> {
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|err| MetadataError::Xml(err.to_string()))?;
        let (resolved, local) = reader.resolver().resolve_attribute(attribute.key);
        if let ResolveResult::Bound(Namespace(namespace)) = resolved
            && let Some(property) = Property::from_name(namespace, local.as_ref())
        {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| MetadataError::Xml(err.to_string()))?;
            let value = value.trim();
            if !value.is_empty() {
                found.push((property, value.to_owned()));
            }
        }
    }
    Ok(())
}

/// `<Iptc4xmpExt:DigitalSourceType rdf:resource="…"/>`: the URI form of a property value.
fn resource_attribute(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<Option<String>, MetadataError> {
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|err| MetadataError::Xml(err.to_string()))?;
        let (resolved, local) = reader.resolver().resolve_attribute(attribute.key);
        if let ResolveResult::Bound(Namespace(NS_RDF)) = resolved
            && local.as_ref() == "resource"
        {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| MetadataError::Xml(err.to_string()))?;
            return Ok(Some(value.trim().to_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAINED: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

    fn parse_str(xml: &str) -> Result<Vec<(Property, String)>, MetadataError> {
        parse(xml.as_bytes(), &Limits::default())
    }

    #[test]
    fn attribute_form() {
        let xml = format!(
            r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{NS_RDF}">
             <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{NS_IPTC_EXT}" xmlns:xmp="{NS_XMP}"
               Iptc4xmpExt:DigitalSourceType=" {TRAINED}" xmp:CreatorTool="Midjourney"/>
             </rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#
        );
        assert_eq!(
            parse_str(&xml).unwrap(),
            vec![(Property::DigitalSourceType, TRAINED.to_owned()), (Property::CreatorTool, "Midjourney".to_owned())]
        );
    }

    #[test]
    fn element_form_with_other_prefix_and_entities() {
        let xml = format!(
            r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{NS_RDF}"><rdf:Description xmlns:ext="{NS_IPTC_EXT}" xmlns:xap="{NS_XMP}">
            <ext:DigitalSourceType>
              {TRAINED}
            </ext:DigitalSourceType><xap:CreatorTool>Tom &amp; Jerry&#x21;</xap:CreatorTool></rdf:Description></rdf:RDF></x:xmpmeta>"#
        );
        assert_eq!(
            parse_str(&xml).unwrap(),
            vec![(Property::DigitalSourceType, TRAINED.to_owned()), (Property::CreatorTool, "Tom & Jerry!".to_owned())]
        );
    }

    #[test]
    fn resource_form_and_history() {
        let xml = format!(
            r#"<rdf:RDF xmlns:rdf="{NS_RDF}" xmlns:Iptc4xmpExt="{NS_IPTC_EXT}" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmlns:stEvt="{NS_STEVT}"><rdf:Description>
            <Iptc4xmpExt:DigitalSourceType rdf:resource="{TRAINED}"/>
            <xmpMM:History><rdf:Seq><rdf:li stEvt:action="saved" stEvt:softwareAgent="Adobe Photoshop 24.1 (Windows)"/></rdf:Seq></xmpMM:History>
            </rdf:Description></rdf:RDF>"#
        );
        assert_eq!(
            parse_str(&xml).unwrap(),
            vec![
                (Property::DigitalSourceType, TRAINED.to_owned()),
                (Property::HistorySoftwareAgent, "Adobe Photoshop 24.1 (Windows)".to_owned())
            ]
        );
    }

    #[test]
    fn wrong_namespace_is_ignored() {
        let xml = r#"<r xmlns:Iptc4xmpExt="http://example.com/not-iptc/" Iptc4xmpExt:DigitalSourceType="x"/>"#;
        assert_eq!(parse_str(xml).unwrap(), vec![]);
    }

    #[test]
    fn deep_nesting_is_a_limit_error() {
        let xml = "<a>".repeat(10_000) + &"</a>".repeat(10_000);
        assert_eq!(
            parse_str(&xml),
            Err(MetadataError::LimitExceeded { what: "XMP nesting depth", limit: Limits::default().max_xml_depth })
        );
    }

    #[test]
    fn doctype_and_unknown_entities_are_refused() {
        assert!(matches!(parse_str(r#"<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>"#), Err(MetadataError::Xml(_))));
        assert!(matches!(parse_str("<x>&bogus;</x>"), Err(MetadataError::Xml(_))));
    }

    #[test]
    fn ill_formed_and_non_utf8_are_errors() {
        assert!(matches!(parse_str("<a><b></a>"), Err(MetadataError::Xml(_))));
        assert!(matches!(parse(&[0x3C, 0xFF, 0xFE], &Limits::default()), Err(MetadataError::Xml(_))));
    }
}
