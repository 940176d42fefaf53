//! Redfish mockups: directories of JSON captured from real BMCs, one `index.json` per resource
//! path (DMTF Redfish-Mockup-Server's short form), served verbatim.
//!
//! A mockup is loaded once and shared by every BMC that serves it; only the systems' power state
//! and boot override are live, per BMC (see [`crate::bmc`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::SimError;
use crate::faults::normalize;
use crate::power::{BootOverride, PowerState};

/// The root every mockup path hangs from.
const ROOT: &str = "/redfish/v1";

/// A loaded mockup directory.
#[derive(Debug)]
pub struct Mockup {
    name: String,
    /// Keyed by normalized, lowercased path: vendors link their resources with other cases and
    /// trailing slashes than their files have (HPE links `/redfish/v1/systems/1/bios/`).
    resources: HashMap<String, Bytes>,
    systems: Vec<MockupSystem>,
}

/// A ComputerSystem of a mockup, with what power simulation needs from it.
#[derive(Debug, Clone)]
pub(crate) struct MockupSystem {
    pub(crate) path: String,
    pub(crate) id: String,
    pub(crate) uuid: Option<String>,
    pub(crate) macs: Vec<String>,
    pub(crate) reset_target: Option<String>,
    pub(crate) reset_types: Vec<String>,
    pub(crate) power_state: PowerState,
    pub(crate) boot: Option<BootOverride>,
    pub(crate) boot_targets: Vec<String>,
    pub(crate) body: Map<String, Value>,
}

fn key(path: &str) -> String {
    normalize(path).to_ascii_lowercase()
}

fn odata_id(v: &Value) -> Option<&str> {
    v.get("@odata.id").and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Mockup {
    /// Reads every `*.json` under `dir` (`index.json` names its directory's path; other files
    /// name themselves) and finds the systems. Fails on unreadable files or invalid JSON.
    pub fn load(dir: impl AsRef<Path>) -> Result<Arc<Self>, SimError> {
        let dir = dir.as_ref();
        let mut resources = HashMap::new();
        let mut stack = vec![(dir.to_path_buf(), ROOT.to_owned())];
        while let Some((fs_dir, url)) = stack.pop() {
            let io = |source| SimError::MockupIo {
                path: fs_dir.clone(),
                source,
            };
            let mut entries: Vec<_> = std::fs::read_dir(&fs_dir)
                .map_err(io)?
                .collect::<Result<_, _>>()
                .map_err(io)?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                let file_type = entry.file_type().map_err(io)?;
                if file_type.is_dir() {
                    stack.push((path, format!("{url}/{name}")));
                } else if name == "index.json" {
                    insert(&mut resources, &url, read_json(&path)?);
                } else if name.ends_with(".json") {
                    insert(&mut resources, &format!("{url}/{name}"), read_json(&path)?);
                }
            }
        }
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut mockup = Self {
            name,
            resources,
            systems: Vec::new(),
        };
        if !mockup.resources.contains_key(&key(ROOT)) {
            return Err(SimError::MockupNoRoot(dir.to_path_buf()));
        }
        mockup.systems = mockup.find_systems();
        tracing::debug!(mockup = %mockup.name, resources = mockup.resources.len(),
            systems = mockup.systems.len(), "mockup loaded");
        Ok(Arc::new(mockup))
    }

    /// The directory's name (`DL325`, `Gigabyte`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many resources it serves.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// The body of the resource at `path` (any case, trailing slashes ignored).
    pub(crate) fn get(&self, path: &str) -> Option<&Bytes> {
        self.resources.get(&key(path))
    }

    pub(crate) fn systems(&self) -> &[MockupSystem] {
        &self.systems
    }

    fn json(&self, path: &str) -> Option<Value> {
        serde_json::from_slice(self.get(path)?).ok()
    }

    fn members(&self, collection: &str) -> Vec<String> {
        self.json(collection)
            .and_then(|c| c.get("Members").cloned())
            .and_then(|m| m.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| odata_id(m).map(str::to_owned))
            .collect()
    }

    /// Systems listed in the Systems collection, then any only linked from a Chassis.
    fn find_systems(&self) -> Vec<MockupSystem> {
        let root = self.json(ROOT).unwrap_or(Value::Null);
        let mut paths = root
            .get("Systems")
            .and_then(odata_id)
            .map(|c| self.members(c))
            .unwrap_or_default();
        if let Some(chassis) = root.get("Chassis").and_then(odata_id) {
            for member in self.members(chassis) {
                let links = self
                    .json(&member)
                    .and_then(|c| c.pointer("/Links/ComputerSystems").cloned());
                for system in links
                    .as_ref()
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    paths.extend(odata_id(system).map(str::to_owned));
                }
            }
        }
        let mut seen = HashSet::new();
        paths
            .into_iter()
            .filter(|p| seen.insert(key(p)))
            .filter_map(|p| self.system(&p))
            .collect()
    }

    fn system(&self, path: &str) -> Option<MockupSystem> {
        let Value::Object(body) = self.json(path)? else {
            return None;
        };
        let reset = body
            .get("Actions")
            .and_then(|a| a.get("#ComputerSystem.Reset"));
        let mut reset_types =
            strings(reset.and_then(|r| r.get("ResetType@Redfish.AllowableValues")));
        if reset_types.is_empty()
            && let Some(info) = reset
                .and_then(|r| r.get("@Redfish.ActionInfo"))
                .and_then(Value::as_str)
        {
            reset_types = self.action_info_values(info, "ResetType");
        }
        let macs = body
            .get("EthernetInterfaces")
            .and_then(odata_id)
            .map(|c| self.members(c))
            .unwrap_or_default()
            .iter()
            .filter_map(|nic| self.json(nic))
            .filter_map(|nic| {
                nic.get("MACAddress")
                    .or_else(|| nic.get("PermanentMACAddress"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        let boot = body.get("Boot");
        let text = |v: Option<&Value>, field: &str| {
            v.and_then(|b| b.get(field))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(MockupSystem {
            path: normalize(path).to_owned(),
            id: body
                .get("Id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            uuid: body.get("UUID").and_then(Value::as_str).map(str::to_owned),
            macs,
            reset_target: reset
                .and_then(|r| r.get("target"))
                .and_then(Value::as_str)
                .map(|t| normalize(t).to_owned()),
            reset_types,
            power_state: body
                .get("PowerState")
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
                .unwrap_or(PowerState::Off),
            boot: boot.map(|b| BootOverride {
                target: text(Some(b), "BootSourceOverrideTarget").unwrap_or_else(|| "None".into()),
                enabled: text(Some(b), "BootSourceOverrideEnabled")
                    .unwrap_or_else(|| "Disabled".into()),
                mode: text(Some(b), "BootSourceOverrideMode"),
            }),
            boot_targets: strings(
                boot.and_then(|b| b.get("BootSourceOverrideTarget@Redfish.AllowableValues")),
            ),
            body,
        })
    }

    fn action_info_values(&self, path: &str, parameter: &str) -> Vec<String> {
        let info = self.json(path).unwrap_or(Value::Null);
        info.get("Parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| p.get("Name").and_then(Value::as_str) == Some(parameter))
            .map(|p| strings(p.get("AllowableValues")))
            .unwrap_or_default()
    }
}

fn read_json(path: &Path) -> Result<Bytes, SimError> {
    let bytes = std::fs::read(path).map_err(|source| SimError::MockupIo {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map_err(|source| {
        SimError::MockupJson {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok(Bytes::from(bytes))
}

fn insert(resources: &mut HashMap<String, Bytes>, url: &str, body: Bytes) {
    if resources.insert(key(url), body).is_some() {
        tracing::warn!(
            path = url,
            "two mockup files differ only in case; serving the last"
        );
    }
}

/// Where the mockups of `shared/peers/mockups` are, for tests and the demo: under
/// `$CAIRN_PEERS_DIR` when set (the override the end-to-end tests honour too), else beside the
/// checkout, relative to a crate of this workspace (`CARGO_MANIFEST_DIR/../../shared/...`).
pub fn shared_mockups_dir(manifest_dir: &str) -> PathBuf {
    match std::env::var_os("CAIRN_PEERS_DIR") {
        Some(peers) if !peers.is_empty() => Path::new(&peers).join("mockups"),
        _ => Path::new(manifest_dir).join("../../shared/peers/mockups"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, json: Value) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_vec(&json).unwrap()).unwrap();
    }

    #[test]
    fn loads_a_small_mockup_with_action_info_and_trailing_slashes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "index.json",
            serde_json::json!({"Systems": {"@odata.id": "/redfish/v1/Systems/"}}),
        );
        write(
            d,
            "Systems/index.json",
            serde_json::json!({"Members": [{"@odata.id": "/redfish/v1/Systems/Self/"}]}),
        );
        write(
            d,
            "Systems/Self/index.json",
            serde_json::json!({
                "Id": "Self", "PowerState": "Off", "UUID": "u-1",
                "Actions": {"#ComputerSystem.Reset": {
                    "target": "/redfish/v1/Systems/Self/Actions/ComputerSystem.Reset/",
                    "@Redfish.ActionInfo": "/redfish/v1/Systems/Self/ResetActionInfo"}},
                "EthernetInterfaces": {"@odata.id": "/redfish/v1/Systems/Self/EthernetInterfaces"}
            }),
        );
        write(
            d,
            "Systems/Self/ResetActionInfo/index.json",
            serde_json::json!({
            "Parameters": [{"Name": "ResetType", "AllowableValues": ["On", "ForceOff"]}]}),
        );
        write(
            d,
            "Systems/Self/EthernetInterfaces/index.json",
            serde_json::json!({
            "Members": [{"@odata.id": "/redfish/v1/Systems/Self/EthernetInterfaces/1"}]}),
        );
        write(
            d,
            "Systems/Self/EthernetInterfaces/1/index.json",
            serde_json::json!({"MACAddress": "AA:BB:CC:00:11:22"}),
        );
        std::fs::write(d.join("README.txt"), "not served").unwrap();

        let m = Mockup::load(d).unwrap();
        assert_eq!(m.resource_count(), 6);
        assert!(m.get("/redfish/v1/systems/self/").is_some());
        let [sys] = m.systems() else {
            panic!("{:?}", m.systems())
        };
        assert_eq!(sys.path, "/redfish/v1/Systems/Self");
        assert_eq!(
            sys.reset_target.as_deref(),
            Some("/redfish/v1/Systems/Self/Actions/ComputerSystem.Reset")
        );
        assert_eq!(sys.reset_types, ["On", "ForceOff"]);
        assert_eq!(sys.macs, ["AA:BB:CC:00:11:22"]);
        assert_eq!(sys.power_state, PowerState::Off);
        assert_eq!(sys.uuid.as_deref(), Some("u-1"));
    }

    #[test]
    fn refuses_invalid_json_and_a_missing_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("Systems")).unwrap();
        std::fs::write(dir.path().join("Systems/index.json"), "{\"a\":").unwrap();
        assert!(matches!(
            Mockup::load(dir.path()),
            Err(SimError::MockupJson { .. })
        ));
        std::fs::write(dir.path().join("Systems/index.json"), "{}").unwrap();
        assert!(matches!(
            Mockup::load(dir.path()),
            Err(SimError::MockupNoRoot(_))
        ));
        assert!(matches!(
            Mockup::load(dir.path().join("nope")),
            Err(SimError::MockupIo { .. })
        ));
    }
}
