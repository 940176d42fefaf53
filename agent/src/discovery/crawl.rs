//! Crawling one BMC: service root, Systems (also those only linked from a Chassis), Managers,
//! Chassis, Ethernet interfaces and reset actions.
//!
//! All or nothing: any failed request fails the crawl, except where a vendor's dangling link is
//! harmless and common, which are skipped when they answer 404: a Chassis member, a system
//! linked only from a Chassis, and an `@Redfish.ActionInfo` (then the allowed values are
//! unknown). Requests to one BMC run concurrently, bounded by the session's permits.

use std::collections::HashSet;
use std::time::Duration;

use futures::future::try_join_all;

use cairn_protocols::DiscoveryStatus;

use super::inventory::{
    BmcInventory, ChassisInventory, ManagerInventory, NicInventory, ResetInfo, SystemInventory,
    link_key, node_order,
};
use crate::redfish::model::{
    ActionInfo, Chassis, Collection, ComputerSystem, EthernetInterface, Manager, ResetActionDecl,
    ServiceRoot,
};
use crate::redfish::{BmcSession, RedfishError};

/// The service root's path.
pub const SERVICE_ROOT: &str = "/redfish/v1/";

/// Node numbers are `n0`..=`n255`.
pub const MAX_SYSTEMS: usize = 256;

/// Pages followed in one paged collection.
const MAX_PAGES: usize = 64;

/// Why a crawl failed. Display says what, [`CrawlError::detail`] adds the causes.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// A request failed.
    #[error(transparent)]
    Redfish(#[from] RedfishError),
    /// The service root has no `RedfishVersion`.
    #[error("GET {SERVICE_ROOT}: not a Redfish service root (no RedfishVersion)")]
    NotRedfish,
    /// A collection is longer than the configured limit.
    #[error("GET {path}: more than {limit} members")]
    TooManyMembers {
        /// The collection.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// More systems than node numbers.
    #[error("{count} systems; a BMC holds at most {MAX_SYSTEMS} nodes (n0..n255)")]
    TooManySystems {
        /// How many were found.
        count: usize,
    },
    /// The whole crawl took too long.
    #[error("the BMC's crawl did not finish within {} ms", .after.as_millis())]
    Timeout {
        /// The per-BMC limit.
        after: Duration,
    },
}

impl CrawlError {
    /// The SMD status this failure is recorded with.
    pub fn discovery_status(&self) -> DiscoveryStatus {
        match self {
            CrawlError::Redfish(e) => e.discovery_status(),
            CrawlError::NotRedfish => DiscoveryStatus::EndpointInvalid,
            CrawlError::TooManyMembers { .. } | CrawlError::TooManySystems { .. } => {
                DiscoveryStatus::ChildVerificationFailed
            }
            CrawlError::Timeout { .. } => DiscoveryStatus::HttpsGetFailed,
        }
    }

    /// The message with its causes.
    pub fn detail(&self) -> String {
        match self {
            CrawlError::Redfish(e) => e.detail(),
            other => other.to_string(),
        }
    }
}

/// Crawls one BMC through `session` (which bounds its concurrency). Collections longer than
/// `max_members` fail the crawl.
pub async fn crawl(session: &BmcSession, max_members: usize) -> Result<BmcInventory, CrawlError> {
    let c = Crawler {
        session,
        max_members,
    };
    let root: ServiceRoot = session.get(SERVICE_ROOT).await?;
    if root.redfish_version.is_none() {
        return Err(CrawlError::NotRedfish);
    }
    if let Some(path) = &root.links.sessions {
        session.set_sessions_path(path);
    }
    let (system_links, managers, chassis) = futures::try_join!(
        c.members(root.systems.as_deref()),
        c.managers(root.managers.as_deref()),
        c.chassis(root.chassis.as_deref()),
    )?;

    // Systems only a Chassis links to are nodes too; links to one system may differ in case
    // and trailing slashes.
    let mut seen: HashSet<String> = system_links.iter().map(|l| link_key(l)).collect();
    let mut chassis_only = Vec::new();
    for link in chassis.iter().flat_map(|ch| &ch.systems) {
        if seen.insert(link_key(link)) {
            chassis_only.push(link.clone());
        }
    }
    let count = system_links.len() + chassis_only.len();
    if count > MAX_SYSTEMS {
        return Err(CrawlError::TooManySystems { count });
    }
    let listed = try_join_all(system_links.iter().map(|l| c.system(l)));
    let linked = try_join_all(chassis_only.iter().map(|l| c.chassis_system(l)));
    let (listed, linked) = futures::try_join!(listed, linked)?;
    let mut systems: Vec<SystemInventory> = listed
        .into_iter()
        .chain(linked.into_iter().flatten())
        .collect();
    systems.sort_by(|a, b| node_order(&a.odata_id, &b.odata_id));
    for system in &mut systems {
        system.power_url = system.chassis.iter().find_map(|link| {
            let key = link_key(link);
            chassis
                .iter()
                .find(|ch| link_key(&ch.odata_id) == key)
                .and_then(|ch| ch.power_url.clone())
        });
    }
    Ok(BmcInventory {
        redfish_version: root.redfish_version,
        uuid: root.uuid,
        vendor: root.vendor,
        product: root.product,
        systems,
        managers,
        chassis,
    })
}

struct Crawler<'a> {
    session: &'a BmcSession,
    max_members: usize,
}

impl Crawler<'_> {
    /// The member links of a collection (all pages), without duplicates. No link: none.
    async fn members(&self, path: Option<&str>) -> Result<Vec<String>, CrawlError> {
        let Some(path) = path else {
            return Ok(Vec::new());
        };
        let mut out: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(path.to_owned());
        let mut pages = 0;
        while let Some(page) = next.take() {
            let collection: Collection = self.session.get(&page).await?;
            for member in collection.members {
                if seen.insert(link_key(&member)) {
                    out.push(member);
                }
            }
            pages += 1;
            if out.len() > self.max_members
                || (collection.next_link.is_some() && pages >= MAX_PAGES)
            {
                return Err(CrawlError::TooManyMembers {
                    path: path.to_owned(),
                    limit: self.max_members,
                });
            }
            next = collection.next_link;
        }
        Ok(out)
    }

    async fn system(&self, link: &str) -> Result<SystemInventory, CrawlError> {
        let s: ComputerSystem = self.session.get(link).await?;
        let (interfaces, reset) = futures::try_join!(
            self.interfaces(s.ethernet_interfaces.as_deref()),
            self.reset(s.actions.reset.as_ref()),
        )?;
        Ok(SystemInventory {
            odata_id: link.to_owned(),
            id: s.id,
            name: s.name,
            uuid: s.uuid,
            system_type: s.system_type,
            manufacturer: s.manufacturer,
            model: s.model,
            serial_number: s.serial_number,
            bios_version: s.bios_version,
            power_state: s.power_state,
            processor_count: s.processor_summary.count,
            processor_model: s.processor_summary.model,
            memory_gib: s.memory_summary.total_system_memory_gib,
            reset,
            interfaces,
            chassis: s.links.chassis,
            power_url: None,
        })
    }

    /// A system known only from a Chassis link; a dangling link (404) is skipped.
    async fn chassis_system(&self, link: &str) -> Result<Option<SystemInventory>, CrawlError> {
        match self.system(link).await {
            Ok(s) => Ok(Some(s)),
            Err(CrawlError::Redfish(e)) if e.is_not_found() => {
                tracing::debug!(bmc = %self.session.address(), link, "chassis links a missing system");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn interfaces(&self, path: Option<&str>) -> Result<Vec<NicInventory>, CrawlError> {
        let links = self.members(path).await?;
        try_join_all(links.iter().map(|link| async move {
            let e: EthernetInterface = self.session.get(link).await?;
            Ok::<_, CrawlError>(NicInventory::from_model(link, e))
        }))
        .await
    }

    /// The reset action with its allowed values, looked up in its ActionInfo when not inline.
    async fn reset(&self, decl: Option<&ResetActionDecl>) -> Result<Option<ResetInfo>, CrawlError> {
        let Some(decl) = decl else {
            return Ok(None);
        };
        let Some(target) = decl.target.clone().filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let allowable_values = match (&decl.allowable_values, &decl.action_info) {
            (Some(values), _) => values.clone(),
            (None, Some(info)) => match self.session.get::<ActionInfo>(info).await {
                Ok(info) => info
                    .parameters
                    .into_iter()
                    .find(|p| p.name.as_deref() == Some("ResetType"))
                    .and_then(|p| p.allowable_values)
                    .unwrap_or_default(),
                Err(e) if e.is_not_found() => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            (None, None) => Vec::new(),
        };
        Ok(Some(ResetInfo {
            target,
            allowable_values,
            action_info: decl.action_info.clone(),
        }))
    }

    async fn managers(&self, path: Option<&str>) -> Result<Vec<ManagerInventory>, CrawlError> {
        let links = self.members(path).await?;
        try_join_all(links.iter().map(|link| async move {
            let m: Manager = self.session.get(link).await?;
            let (interfaces, reset) = futures::try_join!(
                self.interfaces(m.ethernet_interfaces.as_deref()),
                self.reset(m.actions.reset.as_ref()),
            )?;
            Ok::<_, CrawlError>(ManagerInventory {
                odata_id: link.clone(),
                id: m.id,
                name: m.name,
                uuid: m.uuid,
                manager_type: m.manager_type,
                firmware_version: m.firmware_version,
                model: m.model,
                reset,
                interfaces,
            })
        }))
        .await
    }

    /// The chassis that exist (members answering 404 are skipped).
    async fn chassis(&self, path: Option<&str>) -> Result<Vec<ChassisInventory>, CrawlError> {
        let links = self.members(path).await?;
        let found = try_join_all(links.iter().map(|link| async move {
            match self.session.get::<Chassis>(link).await {
                Ok(ch) => Ok(Some(ChassisInventory {
                    odata_id: link.clone(),
                    id: ch.id,
                    name: ch.name,
                    chassis_type: ch.chassis_type,
                    power_url: ch.power,
                    systems: ch.links.computer_systems,
                })),
                Err(e) if e.is_not_found() => {
                    tracing::debug!(bmc = %self.session.address(), link, "chassis member is missing");
                    Ok(None)
                }
                Err(e) => Err(CrawlError::from(e)),
            }
        }))
        .await?;
        Ok(found.into_iter().flatten().collect())
    }
}
