//! The node-facing cloud-init routes; the node is the request's [`ClientIp`].

use axum::body::{Body, to_bytes};
use axum::extract::{Path, State};
use axum::response::Response;

use cairn_protocols::{FieldError, PhoneHome};

use super::{ClientIp, in_span, text};
use crate::cache::AnswerKey;
use crate::cloudinit::{self, NodeCloudData};
use crate::error::BootError;
use crate::source::BootSource;
use crate::state::BootState;

/// Largest phone-home form accepted (a few public keys and names).
pub const MAX_PHONE_HOME_LEN: usize = 64 * 1024;

const YAML: &str = "application/x-yaml";
const PLAIN: &str = "text/plain; charset=utf-8";

fn span(route: &'static str, ip: ClientIp) -> tracing::Span {
    tracing::info_span!("cloud-init", route, client = %ip.0)
}

pub(super) async fn meta_data<S: BootSource>(
    State(st): State<BootState<S>>,
    ip: ClientIp,
) -> Response {
    in_span(span("meta-data", ip), async move {
        let render = async {
            let d = NodeCloudData::load(&st, ip.0).await?;
            cloudinit::meta_data(&d)
        };
        Ok(text(
            YAML,
            st.answer(AnswerKey::MetaData(ip.0), render).await?,
        ))
    })
    .await
}

pub(super) async fn user_data<S: BootSource>(
    State(st): State<BootState<S>>,
    ip: ClientIp,
) -> Response {
    in_span(span("user-data", ip), async move {
        let render = async {
            let d = NodeCloudData::load(&st, ip.0).await?;
            cloudinit::user_data(&d)
        };
        Ok(text(
            PLAIN,
            st.answer(AnswerKey::UserData(ip.0), render).await?,
        ))
    })
    .await
}

pub(super) async fn vendor_data<S: BootSource>(
    State(st): State<BootState<S>>,
    ip: ClientIp,
) -> Response {
    in_span(span("vendor-data", ip), async move {
        let render = async {
            let d = NodeCloudData::load(&st, ip.0).await?;
            Ok(cloudinit::vendor_data(&d))
        };
        Ok(text(
            PLAIN,
            st.answer(AnswerKey::VendorData(ip.0), render).await?,
        ))
    })
    .await
}

pub(super) async fn group_file<S: BootSource>(
    State(st): State<BootState<S>>,
    ip: ClientIp,
    Path(file): Path<String>,
) -> Response {
    in_span(span("group", ip), async move {
        let Some(label) = file.strip_suffix(".yaml") else {
            return Err(BootError::NotFound(format!("no such file {file:?}")));
        };
        let d = NodeCloudData::load(&st, ip.0).await?;
        Ok(text(PLAIN, cloudinit::group_file(&d, label)?))
    })
    .await
}

pub(super) async fn phone_home<S: BootSource>(
    State(st): State<BootState<S>>,
    ip: ClientIp,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    in_span(span("phone-home", ip), async move {
        let bytes = to_bytes(body, MAX_PHONE_HOME_LEN).await.map_err(|_| {
            BootError::BadInput(FieldError::too_large(
                "body",
                MAX_PHONE_HOME_LEN + 1,
                MAX_PHONE_HOME_LEN,
            ))
        })?;
        let report = parse_phone_home(&bytes)?;
        let node = st
            .source()
            .node_by_ip(ip.0)
            .await?
            .ok_or(BootError::UnknownAddress(ip.0))?;
        tracing::info!(xname = %node.xname, id = %id.escape_debug(), "phone-home");
        st.source().record_phone_home(&node.xname, report).await?;
        Ok(Response::new(Body::empty()))
    })
    .await
}

/// Decodes cloud-init's phone-home form (`application/x-www-form-urlencoded`); unknown fields
/// are ignored, each known one is checked.
pub fn parse_phone_home(body: &[u8]) -> Result<PhoneHome, BootError> {
    let mut p = PhoneHome::default();
    for (k, v) in form_urlencoded::parse(body) {
        let slot = match k.as_ref() {
            "pub_key_dsa" => &mut p.pub_key_dsa,
            "pub_key_rsa" => &mut p.pub_key_rsa,
            "pub_key_ecdsa" => &mut p.pub_key_ecdsa,
            "pub_key_ed25519" => &mut p.pub_key_ed25519,
            "instance_id" => &mut p.instance_id,
            "hostname" => &mut p.hostname,
            "fqdn" => &mut p.fqdn,
            _ => continue,
        };
        *slot = v.trim_end().to_owned();
    }
    p.validate()?;
    Ok(p)
}
