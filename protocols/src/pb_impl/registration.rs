//! `RegisterRequest` ↔ [`Registration`].

use std::collections::BTreeSet;

use super::{PbError, non_empty, text, xname};
use crate::agent::{AgentEndpoints, MAX_SCOPE, Registration, cabinet_name, validate_agent_id};
use crate::enums::HmsType;
use crate::pb::agent as pb;

impl TryFrom<pb::RegisterRequest> for Registration {
    type Error = PbError;

    fn try_from(m: pb::RegisterRequest) -> Result<Self, PbError> {
        validate_agent_id(&m.agent_id).map_err(|e| PbError::new("agent_id", e.to_string()))?;
        if m.scope.is_empty() {
            return Err(PbError::new("scope", "at least one cabinet (\"x1000\")"));
        }
        if m.scope.len() > MAX_SCOPE {
            return Err(PbError::new(
                "scope",
                format!("{} cabinets, at most {MAX_SCOPE}", m.scope.len()),
            ));
        }
        let mut scope = BTreeSet::new();
        for (i, s) in m.scope.iter().enumerate() {
            let field = format!("scope[{i}]");
            let x = xname(&field, s)?;
            match (x.hms_type(), x.cabinet()) {
                (HmsType::Cabinet, Some(n)) => {
                    scope.insert(n);
                }
                (t, _) => {
                    return Err(PbError::new(
                        field,
                        format!("{x} is a {t}, not a cabinet (\"x1000\")"),
                    ));
                }
            }
        }
        let endpoints = m.endpoints.unwrap_or_default();
        Ok(Registration {
            agent_id: m.agent_id,
            scope,
            version: text("version", m.version)?,
            endpoints: AgentEndpoints {
                api_url: non_empty(text("endpoints.api_url", endpoints.api_url)?),
                boot_url: non_empty(text("endpoints.boot_url", endpoints.boot_url)?),
            },
        })
    }
}

impl From<Registration> for pb::RegisterRequest {
    fn from(r: Registration) -> Self {
        pb::RegisterRequest {
            agent_id: r.agent_id,
            scope: r.scope.into_iter().map(cabinet_name).collect(),
            version: r.version,
            endpoints: Some(pb::AgentEndpoints {
                api_url: r.endpoints.api_url.unwrap_or_default(),
                boot_url: r.endpoints.boot_url.unwrap_or_default(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(scope: &[&str]) -> pb::RegisterRequest {
        pb::RegisterRequest {
            agent_id: "rack-1".into(),
            scope: scope.iter().map(|s| (*s).to_owned()).collect(),
            version: "0.1.0".into(),
            endpoints: None,
        }
    }

    #[test]
    fn round_trip() {
        let r = Registration::try_from(request(&["X1000", "x3"])).unwrap();
        assert_eq!(r.scope, BTreeSet::from([3, 1000]));
        let back = pb::RegisterRequest::from(r.clone());
        assert_eq!(back.scope, ["x3", "x1000"]);
        assert_eq!(Registration::try_from(back).unwrap(), r);
    }

    #[test]
    fn bad_scopes_name_the_field() {
        let err = Registration::try_from(request(&["x1000", "x1000c0"])).unwrap_err();
        assert_eq!(err.field, "scope[1]");
        assert!(err.message.contains("not a cabinet"), "{err}");
        assert_eq!(
            Registration::try_from(request(&[])).unwrap_err().field,
            "scope"
        );
        let mut bad_id = request(&["x1"]);
        bad_id.agent_id = "a b".into();
        assert_eq!(
            Registration::try_from(bad_id).unwrap_err().field,
            "agent_id"
        );
    }
}
