//! Who is calling: the client address behind trusted reverse proxies, and the key under which
//! anonymous requests are rate-limited.
//!
//! Behind a reverse proxy every request comes from the proxy's address, so one flood would lock
//! everybody out (or nobody). The address the proxy saw is taken from `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`, **only** when the direct peer is a configured trusted proxy — otherwise anyone
//! could name any address. The chain is read from the right, skipping trusted proxies, so a client
//! cannot prepend a fake address. IPv6 clients are limited per /64: one subscriber usually holds a
//! whole /64 and can pick a fresh address for every request.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address: the direct peer, or — when the peer is a trusted proxy — the nearest
/// untrusted address in `Forwarded`/`X-Forwarded-For`. `None` when the server runs without
/// connection info (embedded in tests).
pub fn client_ip(peer: Option<SocketAddr>, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !is_trusted(peer, trusted_proxies) {
        return Some(peer);
    }
    let chain = forwarded_for(headers);
    // Rightmost first: the entry added by our own proxy, then the hop before it, …
    let mut nearest = peer;
    for hop in chain.iter().rev() {
        nearest = *hop;
        if !is_trusted(*hop, trusted_proxies) {
            return Some(*hop);
        }
    }
    Some(nearest)
}

/// The rate-limit key of an address: IPv4 as is, IPv6 cut to its /64 (an IPv4-mapped IPv6
/// address counts as the IPv4 address).
pub fn limiter_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|net| net.contains(&ip))
}

/// The addresses of `Forwarded: for=…` (preferred) or `X-Forwarded-For`, in header order.
/// Entries that are not addresses (`unknown`, obfuscated identifiers) end the chain there, since
/// nothing to their left can be attributed.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
    let raw: Vec<String> = if forwarded.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect()
    } else {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| v.trim().trim_matches('"').to_owned())
                })
            })
            .collect()
    };
    let mut out = Vec::new();
    for entry in raw.iter().rev() {
        match parse_node(entry) {
            Some(ip) => out.push(ip),
            None => break,
        }
    }
    out.reverse();
    out
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = node.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    node.strip_prefix('[').and_then(|r| r.split_once(']')).and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxy: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(client_ip(Some(proxy), &h, &trusted), Some("198.51.100.7".parse().unwrap()));
        assert_eq!(client_ip(Some(stranger), &h, &trusted), Some("203.0.113.9".parse().unwrap()), "spoofed header");
        assert_eq!(client_ip(Some(proxy), &h, &[]), Some("10.0.0.5".parse().unwrap()), "no proxy configured");
        assert_eq!(client_ip(None, &h, &trusted), None);
    }

    #[test]
    fn a_client_cannot_prepend_a_fake_address() {
        let proxy: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.1.1.1")]);
        assert_eq!(client_ip(Some(proxy), &h, &trusted), Some("198.51.100.7".parse().unwrap()));
        let h = headers(&[("forwarded", r#"for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https"#)]);
        assert_eq!(client_ip(Some(proxy), &h, &trusted), Some("2001:db8:cafe::17".parse().unwrap()));
        let h = headers(&[("forwarded", "for=unknown, for=10.2.2.2")]);
        assert_eq!(client_ip(Some(proxy), &h, &trusted), Some("10.2.2.2".parse().unwrap()), "all hops trusted");
    }

    #[test]
    fn ipv6_clients_share_a_key_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limiter_key(a), limiter_key(b));
        assert_ne!(limiter_key(a), limiter_key(other));
        assert_eq!(limiter_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
