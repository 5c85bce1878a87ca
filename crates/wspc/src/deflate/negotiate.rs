//! permessage-deflate negotiation (RFC 7692 §5, §7.1): reading offers and responses,
//! choosing parameters, building the answer.

use super::{DeflateOffer, DeflateParams, DeflateServer, NAME};
use crate::extension::ExtensionHeader;

/// The parameters of one element, checked for form.
#[derive(Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
}

/// Reads an element's parameters: each known at most once, with a valid value. In a
/// response, `client_max_window_bits` needs a value; in an offer it may have none.
fn parse(element: &ExtensionHeader, response: bool) -> Result<Params, String> {
    let mut p = Params::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &element.params {
        let name = name.as_str();
        if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return Err(format!("parameter {name} repeated"));
        }
        seen.push(name);
        match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if value.is_some() {
                    return Err(format!("{name} takes no value"));
                }
                if name.eq_ignore_ascii_case("server_no_context_takeover") {
                    p.server_no_context_takeover = true;
                } else {
                    p.client_no_context_takeover = true;
                }
            }
            "server_max_window_bits" => {
                let v = value
                    .as_deref()
                    .ok_or_else(|| format!("{name} needs a value"))?;
                p.server_max_window_bits = Some(window_bits(v)?);
            }
            "client_max_window_bits" => {
                p.client_max_window_bits = Some(match value.as_deref() {
                    Some(v) => Some(window_bits(v)?),
                    None if response => return Err(format!("{name} needs a value in a response")),
                    None => None,
                });
            }
            _ => return Err(format!("unknown parameter {name}")),
        }
    }
    Ok(p)
}

/// A window-bits value: 8 to 15 in decimal, no leading zeros.
fn window_bits(v: &str) -> Result<u8, String> {
    match v.parse::<u8>() {
        Ok(n @ 8..=15) if !v.starts_with('0') && !v.starts_with('+') => Ok(n),
        _ => Err(format!("invalid window bits {v:?}")),
    }
}

/// The server picks the first offer it can honour; `None` declines them all.
pub(super) fn server_select(
    policy: &DeflateServer,
    offers: &[ExtensionHeader],
) -> Option<(DeflateParams, ExtensionHeader)> {
    let own_window = policy.server_max_window_bits.clamp(8, 15);
    for offer in offers.iter().filter(|o| o.name.eq_ignore_ascii_case(NAME)) {
        // A malformed offer is declined; the next one may still be accepted.
        let Ok(p) = parse(offer, false) else { continue };
        let server_bits = p
            .server_max_window_bits
            .map_or(own_window, |asked| asked.min(own_window));
        let client_bits = match p.client_max_window_bits {
            // The client cannot be asked for a window: it uses up to 15.
            None => None,
            Some(hint) => {
                let bits = policy
                    .client_max_window_bits
                    .clamp(8, 15)
                    .min(hint.unwrap_or(15));
                (bits < 15 || hint.is_some()).then_some(bits)
            }
        };
        let params = DeflateParams {
            server_no_context_takeover: p.server_no_context_takeover
                || policy.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover
                || policy.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits.unwrap_or(15),
        };
        let mut answer = ExtensionHeader::new(NAME);
        if params.server_no_context_takeover {
            answer = answer.with_param("server_no_context_takeover", None);
        }
        if params.client_no_context_takeover {
            answer = answer.with_param("client_no_context_takeover", None);
        }
        // Required when the client asked for a window; otherwise only if smaller.
        if p.server_max_window_bits.is_some() || server_bits < 15 {
            answer = answer.with_param("server_max_window_bits", Some(server_bits.to_string()));
        }
        if let Some(bits) = client_bits {
            answer = answer.with_param("client_max_window_bits", Some(bits.to_string()));
        }
        return Some((params, answer));
    }
    None
}

/// The client checks the server's answer against its offers.
pub(super) fn client_accept(
    offers: &[DeflateOffer],
    response: &ExtensionHeader,
) -> Result<(DeflateParams, ExtensionHeader), String> {
    let p = parse(response, true)?;
    let offer = offers
        .iter()
        .find(|o| answers(o, &p))
        .ok_or_else(|| format!("the response {response} does not answer any offer"))?;
    let params = DeflateParams {
        server_no_context_takeover: p.server_no_context_takeover,
        client_no_context_takeover: p.client_no_context_takeover
            || offer.client_no_context_takeover,
        server_max_window_bits: p.server_max_window_bits.unwrap_or(15),
        client_max_window_bits: p
            .client_max_window_bits
            .flatten()
            .or(offer.client_max_window_bits.flatten())
            .unwrap_or(15),
    };
    Ok((params, response.clone()))
}

/// Whether response parameters `p` are a valid answer to `offer`.
fn answers(offer: &DeflateOffer, p: &Params) -> bool {
    if offer.server_no_context_takeover && !p.server_no_context_takeover {
        return false;
    }
    if let Some(asked) = offer.server_max_window_bits {
        match p.server_max_window_bits {
            Some(bits) if bits <= asked => {}
            _ => return false,
        }
    }
    match (
        p.client_max_window_bits.flatten(),
        offer.client_max_window_bits,
    ) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(bits), Some(hint)) => bits <= hint.unwrap_or(15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(text: &str) -> Vec<ExtensionHeader> {
        ExtensionHeader::parse_list(text).unwrap()
    }

    fn select(policy: DeflateServer, offers: &str) -> Option<String> {
        server_select(&policy, &offer(offers)).map(|(_, h)| h.to_string())
    }

    #[test]
    fn negotiation_table_server() {
        let d = DeflateServer::default();
        let memory = DeflateServer {
            client_no_context_takeover: true,
            client_max_window_bits: 10,
            server_max_window_bits: 12,
            ..d
        };
        let cases: Vec<(DeflateServer, &str, Option<&str>)> = vec![
            (d, "permessage-deflate", Some("permessage-deflate")),
            (
                d,
                "permessage-deflate; client_max_window_bits",
                Some("permessage-deflate"),
            ),
            (
                d,
                "permessage-deflate; client_max_window_bits=10",
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            (
                d,
                "permessage-deflate; server_max_window_bits=9",
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
            (
                d,
                "permessage-deflate; server_max_window_bits=8",
                Some("permessage-deflate; server_max_window_bits=8"),
            ),
            (
                d,
                "permessage-deflate; server_no_context_takeover",
                Some("permessage-deflate; server_no_context_takeover"),
            ),
            (
                d,
                "permessage-deflate; client_no_context_takeover",
                Some("permessage-deflate; client_no_context_takeover"),
            ),
            // Policy: smaller windows and no client context, where the offer allows.
            (
                memory,
                "permessage-deflate",
                Some("permessage-deflate; client_no_context_takeover; server_max_window_bits=12"),
            ),
            (
                memory,
                "permessage-deflate; client_max_window_bits",
                Some(
                    "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10",
                ),
            ),
            (
                memory,
                "permessage-deflate; server_max_window_bits=14; client_max_window_bits=9",
                Some(
                    "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9",
                ),
            ),
            // Malformed offers are declined; a later valid one is taken.
            (d, "permessage-deflate; server_max_window_bits", None),
            (d, "permessage-deflate; server_max_window_bits=16", None),
            (d, "permessage-deflate; server_max_window_bits=7", None),
            (d, "permessage-deflate; server_max_window_bits=010", None),
            (d, "permessage-deflate; client_max_window_bits=1a", None),
            (d, "permessage-deflate; server_no_context_takeover=1", None),
            (d, "permessage-deflate; foo", None),
            (
                d,
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                None,
            ),
            (
                d,
                "permessage-deflate; foo, permessage-deflate; client_max_window_bits=12",
                Some("permessage-deflate; client_max_window_bits=12"),
            ),
            (d, "x-other, permessage-deflate", Some("permessage-deflate")),
            (d, "x-other", None),
        ];
        for (policy, offers, expected) in cases {
            assert_eq!(select(policy, offers).as_deref(), expected, "{offers}");
        }
    }

    #[test]
    fn negotiated_parameters_server() {
        let (p, _) = server_select(&DeflateServer::default(), &offer("permessage-deflate; server_max_window_bits=9; client_max_window_bits=11; server_no_context_takeover")).unwrap();
        assert_eq!(
            p,
            DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: false,
                server_max_window_bits: 9,
                client_max_window_bits: 11
            }
        );
    }

    #[test]
    fn negotiation_table_client() {
        let plain = DeflateOffer::default();
        let flexible = DeflateOffer {
            client_max_window_bits: Some(None),
            ..plain
        };
        let strict = DeflateOffer {
            server_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: Some(Some(12)),
            ..plain
        };
        let cases: Vec<(Vec<DeflateOffer>, &str, bool)> = vec![
            (vec![plain], "permessage-deflate", true),
            (
                vec![plain],
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10",
                true,
            ),
            (
                vec![plain],
                "permessage-deflate; client_max_window_bits=10",
                false,
            ), // not offered
            (
                vec![flexible],
                "permessage-deflate; client_max_window_bits=10",
                true,
            ),
            (
                vec![flexible],
                "permessage-deflate; client_max_window_bits",
                false,
            ), // needs a value
            (
                vec![strict],
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
                true,
            ),
            (
                vec![strict],
                "permessage-deflate; server_max_window_bits=10",
                false,
            ), // takeover not granted
            (
                vec![strict],
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
                false,
            ),
            (
                vec![strict],
                "permessage-deflate; server_no_context_takeover",
                false,
            ),
            (
                vec![strict],
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=13",
                false,
            ),
            (vec![strict, plain], "permessage-deflate", true), // answers the second offer
            (vec![plain], "permessage-deflate; unknown", false),
            (
                vec![plain],
                "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
                false,
            ),
            (
                vec![plain],
                "permessage-deflate; server_max_window_bits=20",
                false,
            ),
        ];
        for (offers, response, ok) in cases {
            let r = &offer(response)[0];
            assert_eq!(client_accept(&offers, r).is_ok(), ok, "{response}");
        }
    }

    #[test]
    fn client_parameters_follow_response_then_offer() {
        let offer_hint = DeflateOffer {
            client_max_window_bits: Some(Some(12)),
            client_no_context_takeover: true,
            ..DeflateOffer::default()
        };
        let (p, _) = client_accept(&[offer_hint], &offer("permessage-deflate")[0]).unwrap();
        assert_eq!(
            (
                p.client_max_window_bits,
                p.client_no_context_takeover,
                p.server_max_window_bits
            ),
            (12, true, 15)
        );
        let (p, _) = client_accept(
            &[offer_hint],
            &offer("permessage-deflate; client_max_window_bits=9")[0],
        )
        .unwrap();
        assert_eq!(p.client_max_window_bits, 9);
    }

    #[test]
    fn offers_format_as_headers() {
        let o = DeflateOffer {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: Some(None),
        };
        assert_eq!(
            o.header().to_string(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits"
        );
    }
}
