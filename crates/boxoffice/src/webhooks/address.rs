//! Which webhook URLs and addresses boxoffice may send to (CONTRACT.md, "Delivery": "the
//! address is resolved, checked against private, loopback, link-local and metadata ranges
//! (unless allowed), and connected to as checked").
//!
//! A webhook URL is chosen by an admin but fetched by the server, from inside the network:
//! without this check it could reach the database, a cloud's metadata service
//! (169.254.169.254) or anything else only the server can see. The URL is checked when the
//! endpoint is created ([`check_url`]), and every address is checked again when it is
//! connected to ([`super::client`]), because a name may resolve elsewhere by then.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

/// The longest URL accepted for an endpoint.
pub const MAX_URL_CHARS: usize = 2048;

/// Why a webhook URL is refused; the messages are CONTRACT.md's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("url must be an http or https URL")]
    NotHttp,
    #[error("url must be at most {MAX_URL_CHARS} characters")]
    TooLong,
    #[error("url points to a private address")]
    Private,
    /// `https://user:password@host/`: the endpoint's URL is shown in every listing and may be
    /// logged, so it must carry no credentials; the signing secret is what authenticates a
    /// delivery.
    #[error("url must not contain a user name or password")]
    Credentials,
    /// `http://host:0/`: port 0 names no service (a connection to it goes nowhere, or, on
    /// some systems, to a port the kernel picks), so it is never a delivery address.
    #[error("url port must be from 1 to 65535")]
    PortZero,
}

/// Parses an endpoint URL: absolute, `http` or `https`, with a host and no user name or
/// password (userinfo, RFC 3986 section 3.2.1), not on port 0, at most [`MAX_URL_CHARS`]; unless `allow_private` (`WEBHOOK_ALLOW_PRIVATE`), an address literal
/// must be public and the name may not be `localhost` (RFC 6761). Names are resolved and
/// checked again at each connection.
pub fn check_url(text: &str, allow_private: bool) -> Result<Url, UrlRefusal> {
    if text.chars().count() > MAX_URL_CHARS {
        return Err(UrlRefusal::TooLong);
    }
    let url = Url::parse(text).map_err(|_| UrlRefusal::NotHttp)?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(UrlRefusal::NotHttp);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefusal::Credentials);
    }
    if url.port() == Some(0) {
        return Err(UrlRefusal::PortZero);
    }
    if !allow_private && host_is_private(&url) {
        return Err(UrlRefusal::Private);
    }
    Ok(url)
}

/// Whether the URL's host is, on its face, private: an address literal that [`is_public`]
/// refuses, or a name under `localhost`.
pub fn host_is_private(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => true,
    }
}

/// Whether boxoffice may connect to this address when private addresses are not allowed.
///
/// Refused (IANA special-purpose registries, RFC 6890): unspecified, "this network"
/// (0.0.0.0/8), loopback, private (RFC 1918), shared address space / CGNAT (100.64.0.0/10,
/// also Alibaba Cloud's metadata at 100.100.100.200), link-local (169.254.0.0/16, the
/// metadata service of AWS, GCP and Azure at 169.254.169.254; fe80::/10), IETF protocol
/// assignments (192.0.0.0/24, Oracle Cloud's metadata at 192.0.0.192), Azure's WireServer
/// (168.63.129.16, the host's metadata and agent channel, reachable from every VM), documentation and
/// benchmarking ranges, multicast, reserved (240.0.0.0/4) and broadcast; unique-local
/// fc00::/7 (AWS's IPv6 metadata at fd00:ec2::254), site-local fec0::/10, discard-only
/// 100::/64, 2001:db8::/32, Teredo and ORCHID (2001::/23); and IPv6 forms that carry an
/// IPv4 address (mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96 of RFC 2765 and
/// RFC 6052, compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) when the IPv4 address they
/// carry is refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = ip.is_unspecified()
        || a == 0
        || ip.is_loopback()
        || ip.is_private()
        || (a == 100 && (64..=127).contains(&b))
        || ip.is_link_local()
        || (a == 192 && b == 0 && c == 0)
        || ip == Ipv4Addr::new(168, 63, 129, 16)
        || ip.is_documentation()
        || (a == 198 && (18..=19).contains(&b))
        || ip.is_multicast()
        || a >= 240
        || ip.is_broadcast();
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || ip.is_multicast()
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x2001 && s[1] < 0x0200)
        || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 0x0001);
    !refused
}

/// The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-translated
/// (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4
/// (2002:aabb:ccdd::) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    let translated = s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0;
    let compatible = s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1);
    let nat64 = s[..6] == [0x0064, 0xff9b, 0, 0, 0, 0];
    if mapped || translated || compatible || nat64 {
        Some(v4(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(v4(s[1], s[2]))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn public_addresses_pass() {
        for text in [
            "93.184.216.34",
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:82a::200e",
            "::ffff:93.184.216.34",
            "::ffff:0:93.184.216.34",
            "168.63.129.17",
            "64:ff9b::808:808",
            "2002:5db8:d822::1",
        ] {
            assert!(is_public(ip(text)), "{text}");
        }
    }

    #[test]
    fn private_loopback_link_local_metadata_and_special_addresses_are_refused() {
        for text in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.100.100.200",
            "169.254.169.254",
            "169.254.0.1",
            "192.0.0.192",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "2001:db8::1",
            "2001::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            // Azure's WireServer, and IPv4-translated forms of refused addresses.
            "168.63.129.16",
            "::ffff:0:127.0.0.1",
            "::ffff:0:a9fe:a9fe",
            "::ffff:0:10.0.0.1",
            "::ffff:0:168.63.129.16",
            "::ffff:0:0.0.0.0",
        ] {
            assert!(!is_public(ip(text)), "{text}");
        }
    }

    #[test]
    fn only_http_and_https_urls_with_a_host() {
        for bad in [
            "",
            "not a url",
            "/relative/path",
            "ftp://example.com/x",
            "file:///etc/passwd",
            "gopher://example.com",
            "javascript:alert(1)",
            "http://",
            "mailto:a@example.com",
        ] {
            assert_eq!(check_url(bad, false), Err(UrlRefusal::NotHttp), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(check_url(&long, false), Err(UrlRefusal::TooLong));
        assert_eq!(
            UrlRefusal::TooLong.to_string(),
            "url must be at most 2048 characters"
        );
        let ok = check_url("https://hooks.example.com:8443/boxoffice?x=1", false).unwrap();
        assert_eq!(ok.as_str(), "https://hooks.example.com:8443/boxoffice?x=1");
        assert!(check_url("HTTP://Example.COM", false).is_ok());
    }

    #[test]
    fn urls_with_a_user_name_or_password_are_refused() {
        for bad in [
            "https://user:pw@hooks.example.com/",
            "https://user@hooks.example.com/",
            "https://:pw@hooks.example.com/",
            "http://user:pw@127.0.0.1:8080/",
        ] {
            assert_eq!(check_url(bad, false), Err(UrlRefusal::Credentials), "{bad}");
            assert_eq!(check_url(bad, true), Err(UrlRefusal::Credentials), "{bad}");
        }
        // An `@` in the path or query is not userinfo.
        assert!(check_url("https://hooks.example.com/a@b?to=x@y", false).is_ok());
    }

    #[test]
    fn private_hosts_are_refused_unless_allowed() {
        for bad in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://LOCALHOST./hook",
            "http://api.localhost/hook",
            "http://[::1]/hook",
            "http://[::ffff:7f00:1]/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0/",
            "http://10.1.2.3/",
            "http://[fd00:ec2::254]/",
            "http://168.63.129.16/machine?comp=goalstate",
            "http://[::ffff:0:a9fe:a9fe]/latest/meta-data/",
        ] {
            assert_eq!(check_url(bad, false), Err(UrlRefusal::Private), "{bad}");
            assert!(
                check_url(bad, true).is_ok(),
                "{bad} with WEBHOOK_ALLOW_PRIVATE"
            );
        }
    }

    #[test]
    fn port_zero_is_refused_even_where_private_addresses_are_allowed() {
        for bad in [
            "http://hooks.example.com:0/",
            "https://93.184.216.34:0/hook",
            "http://127.0.0.1:0/",
            "http://[2606:4700:4700::1111]:00/",
        ] {
            assert_eq!(check_url(bad, false), Err(UrlRefusal::PortZero), "{bad}");
            assert_eq!(check_url(bad, true), Err(UrlRefusal::PortZero), "{bad}");
        }
        assert!(check_url("http://hooks.example.com:1/", false).is_ok());
        assert!(check_url("http://hooks.example.com:65535/", false).is_ok());
    }

    #[test]
    fn the_messages_are_the_contracts() {
        assert_eq!(
            UrlRefusal::NotHttp.to_string(),
            "url must be an http or https URL"
        );
        assert_eq!(
            UrlRefusal::Private.to_string(),
            "url points to a private address"
        );
        assert_eq!(
            UrlRefusal::Credentials.to_string(),
            "url must not contain a user name or password"
        );
    }
}
