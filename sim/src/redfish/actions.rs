//! What a client may change: `ComputerSystem.Reset` and the boot override (`PATCH` of a system).
//! Both validate the whole request before changing anything.

use std::time::Instant;

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::bmc::{Bmc, SimSystem};
use crate::faults::FailReset;
use crate::power::ResetType;

const RESET: &str = "#ComputerSystem.Reset";

/// `POST` of a system's reset action target.
pub(crate) fn reset(
    bmc: &Bmc,
    system: &SimSystem,
    body: &Map<String, Value>,
) -> Result<StatusCode, ApiError> {
    let value = match body.get("ResetType") {
        None => return Err(ApiError::ParameterMissing(RESET, "ResetType")),
        Some(Value::String(value)) => value.as_str(),
        Some(_) => return Err(ApiError::ParameterType("ResetType", RESET)),
    };
    if let Some(extra) = body.keys().find(|k| *k != "ResetType") {
        return Err(ApiError::ParameterUnknown(RESET, extra.clone()));
    }
    let parsed = value.parse::<ResetType>().ok();
    // A BMC that publishes no allowable values accepts every value of the schema's enum.
    let allowed = if system.reset_types.is_empty() {
        parsed.is_some()
    } else {
        system.reset_types.iter().any(|t| t == value)
    };
    if !allowed {
        return Err(ApiError::ParameterNotInList(
            value.to_owned(),
            "ResetType",
            RESET,
        ));
    }
    let fail = bmc.fail_reset();
    if fail == Some(FailReset::Error500) {
        tracing::info!(system = %system.id, reset = value, "fault: reset fails with 500");
        return Err(ApiError::Internal);
    }
    match parsed {
        Some(reset) => {
            let apply = fail != Some(FailReset::NoEffect);
            system.power.reset(reset, Instant::now(), apply);
            tracing::info!(system = %system.id, reset = value, applied = apply, "reset");
        }
        None => {
            tracing::info!(system = %system.id, reset = value, "reset type not simulated: no effect")
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

fn one_of(value: &str, allowed: &[&str], property: &str) -> Result<(), ApiError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::PropertyNotInList(
            value.to_owned(),
            property.to_owned(),
        ))
    }
}

/// `PATCH` of a system: only `Boot.BootSourceOverride{Target,Enabled,Mode}` are writable.
pub(crate) fn patch(system: &SimSystem, body: &Map<String, Value>) -> Result<StatusCode, ApiError> {
    if let Some(other) = body.keys().find(|k| *k != "Boot" && !k.starts_with('@')) {
        return Err(ApiError::PropertyUnknown(other.clone()));
    }
    let boot = match body.get("Boot") {
        None => {
            return Err(ApiError::MalformedJson(
                "the body names no writable property (Boot)".into(),
            ));
        }
        Some(_) if !system.has_boot => return Err(ApiError::PropertyUnknown("Boot".into())),
        Some(Value::Object(boot)) => boot,
        Some(_) => return Err(ApiError::PropertyType("Boot".into())),
    };
    let mut new = system.power.boot();
    for (key, value) in boot {
        let property = format!("Boot/{key}");
        let Value::String(value) = value else {
            return Err(ApiError::PropertyType(property));
        };
        match key.as_str() {
            "BootSourceOverrideTarget" => {
                if !system.boot_targets.is_empty() && !system.boot_targets.contains(value) {
                    return Err(ApiError::PropertyNotInList(value.clone(), property));
                }
                new.target = value.clone();
            }
            "BootSourceOverrideEnabled" => {
                one_of(value, &["Disabled", "Once", "Continuous"], &property)?;
                new.enabled = value.clone();
            }
            "BootSourceOverrideMode" => {
                one_of(value, &["UEFI", "Legacy"], &property)?;
                new.mode = Some(value.clone());
            }
            _ => return Err(ApiError::PropertyUnknown(property)),
        }
    }
    tracing::info!(system = %system.id, target = %new.target, enabled = %new.enabled, "boot override");
    system.power.set_boot(new);
    Ok(StatusCode::NO_CONTENT)
}
