//! SMD's component filters (`GET /State/Components?type=Node&state=On...` and the POST `Query`
//! bodies): parsed once, validated with errors that name the parameter, then matched.

use std::collections::BTreeSet;

use cairn_protocols::{Component, HmsArch, HmsClass, HmsFlag, HmsState, HmsType, Xname};

use super::command::GroupKind;
use super::state::Inventory;

/// A filter parameter that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter {param:?}: {reason}")]
pub struct FilterError {
    /// The parameter's name.
    pub param: String,
    /// What is wrong with its value.
    pub reason: String,
}

/// Which fields a listing returns (`stateonly`, `flagonly`, `roleonly`, `nidonly`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Projection {
    #[default]
    All,
    State,
    Flag,
    Role,
    Nid,
}

/// A parsed component filter. Values of one parameter are alternatives (OR); different
/// parameters must all match (AND), as in SMD.
#[derive(Debug, Clone, Default)]
pub struct ComponentFilter {
    ids: BTreeSet<Xname>,
    types: Vec<HmsType>,
    states: Vec<HmsState>,
    flags: Vec<HmsFlag>,
    roles: Vec<String>,
    subroles: Vec<String>,
    enabled: Option<bool>,
    software_status: Vec<String>,
    subtypes: Vec<String>,
    arches: Vec<HmsArch>,
    classes: Vec<HmsClass>,
    nids: Vec<i64>,
    nid_start: Option<i64>,
    nid_end: Option<i64>,
    groups: Vec<String>,
    partitions: Vec<String>,
    projection: Projection,
}

fn bad(param: &str, reason: impl std::fmt::Display) -> FilterError {
    FilterError {
        param: param.to_owned(),
        reason: reason.to_string(),
    }
}

fn parse_bool(param: &str, v: &str) -> Result<bool, FilterError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad(param, format!("{v:?} is not true or false"))),
    }
}

fn parse_nid(param: &str, v: &str) -> Result<i64, FilterError> {
    v.trim()
        .parse()
        .map_err(|_| bad(param, format!("{v:?} is not an integer NID")))
}

impl ComponentFilter {
    /// Parse query pairs; unknown parameters are refused so a typo never widens a query.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, FilterError> {
        let mut f = ComponentFilter::default();
        for (key, value) in pairs {
            let param = key.to_ascii_lowercase();
            let p = param.as_str();
            let enum_err = |e: cairn_protocols::UnknownValueError| bad(p, e);
            match p {
                "id" | "componentids" => {
                    f.ids.insert(Xname::parse(value).map_err(|e| bad(p, e))?);
                }
                "type" => f.types.push(value.parse().map_err(enum_err)?),
                "state" => f.states.push(value.parse().map_err(enum_err)?),
                "flag" => f.flags.push(value.parse().map_err(enum_err)?),
                "arch" => f.arches.push(value.parse().map_err(enum_err)?),
                "class" => f.classes.push(value.parse().map_err(enum_err)?),
                "role" => f.roles.push(value.to_owned()),
                "subrole" => f.subroles.push(value.to_owned()),
                "softwarestatus" => f.software_status.push(value.to_owned()),
                "subtype" => f.subtypes.push(value.to_owned()),
                "enabled" => f.enabled = Some(parse_bool(p, value)?),
                "nid" => f.nids.push(parse_nid(p, value)?),
                "nid_start" => f.nid_start = Some(parse_nid(p, value)?),
                "nid_end" => f.nid_end = Some(parse_nid(p, value)?),
                // Labels are stored lower-cased (`normalize_label`), so match them that way.
                "group" => f.groups.push(value.trim().to_ascii_lowercase()),
                "partition" => f.partitions.push(value.trim().to_ascii_lowercase()),
                "stateonly" | "flagonly" | "roleonly" | "nidonly" => {
                    if parse_bool(p, value)? {
                        f.projection = match p {
                            "stateonly" => Projection::State,
                            "flagonly" => Projection::Flag,
                            "roleonly" => Projection::Role,
                            _ => Projection::Nid,
                        };
                    }
                }
                // Read options the API layer handles itself.
                "stale" => {}
                _ => return Err(bad(p, "unknown filter")),
            }
        }
        Ok(f)
    }

    /// Parse a POST `Query` body: the same names as the GET parameters, with array values.
    pub fn from_json(body: &serde_json::Value) -> Result<Self, FilterError> {
        let obj = body
            .as_object()
            .ok_or_else(|| bad("body", "expected a JSON object of filters"))?;
        let mut pairs = Vec::new();
        for (key, value) in obj {
            let values: Vec<&serde_json::Value> = match value {
                serde_json::Value::Array(items) => items.iter().collect(),
                serde_json::Value::Null => Vec::new(),
                other => vec![other],
            };
            for v in values {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return Err(bad(key, "expected a string, number, boolean or array")),
                };
                pairs.push((key.clone(), s));
            }
        }
        Self::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Restrict to these ids (the ByNID and path forms).
    pub fn with_ids(mut self, ids: impl IntoIterator<Item = Xname>) -> Self {
        self.ids.extend(ids);
        self
    }

    fn matches(&self, c: &Component, members: &Option<BTreeSet<Xname>>) -> bool {
        fn any_or_empty<T: PartialEq>(wanted: &[T], got: Option<&T>) -> bool {
            wanted.is_empty() || got.is_some_and(|g| wanted.contains(g))
        }
        fn any_ci(wanted: &[String], got: Option<&String>) -> bool {
            wanted.is_empty()
                || got.is_some_and(|g| wanted.iter().any(|w| w.eq_ignore_ascii_case(g)))
        }
        let ty = c.r#type.unwrap_or_else(|| c.id.hms_type());
        (self.ids.is_empty() || self.ids.contains(&c.id))
            && (self.types.is_empty() || self.types.contains(&ty))
            && any_or_empty(&self.states, c.state.as_ref())
            && any_or_empty(&self.flags, c.flag.as_ref())
            && any_or_empty(&self.arches, c.arch.as_ref())
            && any_or_empty(&self.classes, c.class.as_ref())
            && any_ci(&self.roles, c.role.as_ref())
            && any_ci(&self.subroles, c.sub_role.as_ref())
            && any_ci(&self.software_status, c.software_status.as_ref())
            && any_ci(&self.subtypes, c.subtype.as_ref())
            && self.enabled.is_none_or(|e| c.enabled.unwrap_or(true) == e)
            && any_or_empty(&self.nids, c.nid.as_ref())
            && self.nid_start.is_none_or(|s| c.nid.is_some_and(|n| n >= s))
            && self.nid_end.is_none_or(|e| c.nid.is_some_and(|n| n <= e))
            && members.as_ref().is_none_or(|m| m.contains(&c.id))
    }

    fn project(&self, c: &Component) -> Component {
        let mut out = Component::new(c.id.clone());
        out.r#type = c.r#type;
        match self.projection {
            Projection::All => return c.clone(),
            Projection::State => {
                out.state = c.state;
                out.flag = c.flag;
            }
            Projection::Flag => out.flag = c.flag,
            Projection::Role => {
                out.role = c.role.clone();
                out.sub_role = c.sub_role.clone();
            }
            Projection::Nid => out.nid = c.nid,
        }
        out
    }

    /// The matching components, projected, in xname order.
    pub fn select(&self, inv: &Inventory) -> Vec<Component> {
        let members = self.membership_set(inv);
        let matching = |c: &&Component| self.matches(c, &members);
        if !self.ids.is_empty() && self.ids.len() < inv.component_count() / 8 {
            // A few ids: look them up instead of scanning every component.
            return self
                .ids
                .iter()
                .filter_map(|id| inv.component(id))
                .filter(matching)
                .map(|c| self.project(c))
                .collect();
        }
        inv.components()
            .filter(matching)
            .map(|c| self.project(c))
            .collect()
    }

    fn membership_set(&self, inv: &Inventory) -> Option<BTreeSet<Xname>> {
        let by_group =
            (!self.groups.is_empty()).then(|| inv.members_of(GroupKind::Group, &self.groups));
        let by_partition = (!self.partitions.is_empty())
            .then(|| inv.members_of(GroupKind::Partition, &self.partitions));
        match (by_group, by_partition) {
            (Some(g), Some(p)) => Some(g.intersection(&p).cloned().collect()),
            (g, p) => g.or(p),
        }
    }
}
