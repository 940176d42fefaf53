//! The closed string enumerations of SMD (`HMSType`, `HMSState`, ...).
//!
//! They are (de)serialized through [`FromStr`], which matches case-insensitively the way SMD
//! normalizes these values (`on` and `ON` both mean `On`), and always emits the spec's spelling.

use std::str::FromStr;

/// A string did not name any value of one of SMD's enumerations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of: {expected})")]
pub struct UnknownValueError {
    /// Which enumeration was being parsed, e.g. "HMS type".
    pub what: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub expected: String,
}

/// The impls every closed string enumeration shares, given `as_str()` and [`FromStr`]: Display
/// and Serialize write the canonical spelling, Deserialize goes through `FromStr` (so input is
/// matched as leniently as the enum's parser allows), and the OpenAPI schema lists the spellings.
macro_rules! text_enum_impls {
    ($name:ident, [$($text:literal),+]) => {
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                ::utoipa::openapi::ObjectBuilder::new()
                    .schema_type(::utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl ::utoipa::ToSchema for $name {}
    };
}
pub(crate) use text_enum_impls;

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $s:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in the spec's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spec's spelling of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValueError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $(
                    if s.eq_ignore_ascii_case($s) $(|| s.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )+
                Err(UnknownValueError {
                    what: $what,
                    value: s.to_owned(),
                    expected: [$($s),+].join(", "),
                })
            }
        }

        $crate::enums::text_enum_impls!($name, [$($s),+]);
    };
}

string_enum! {
    /// `HMSType.1.0.0`: the kind of component an xname names. The spec's values, plus the few
    /// that SMD's type library also knows and that the xname grammar needs (`System`,
    /// `CabinetBMC`, `NodeHsnNic`, `MgmtHLSwitchEnclosure`).
    HmsType, "HMS type" {
        /// A coolant distribution unit, `d<n>`.
        Cdu = "CDU",
        /// A CDU inside a cabinet, `x<c>d<n>`.
        CabinetCdu = "CabinetCDU",
        /// A cabinet PDU, `x<c>m<m>p<p>`.
        CabinetPdu = "CabinetPDU",
        /// A PDU outlet (older naming), `x<c>m<m>p<p>j<j>`.
        CabinetPduOutlet = "CabinetPDUOutlet",
        /// A PDU power connector / outlet, `x<c>m<m>p<p>v<v>`.
        CabinetPduPowerConnector = "CabinetPDUPowerConnector",
        /// A PDU controller, `x<c>m<m>`.
        CabinetPduController = "CabinetPDUController",
        /// A cabinet (rack), `x<c>`.
        Cabinet = "Cabinet",
        /// A chassis, `x<c>c<ch>`.
        Chassis = "Chassis",
        /// A chassis BMC, `x<c>c<ch>b<b>`.
        ChassisBmc = "ChassisBMC",
        /// A chassis rectifier, `x<c>c<ch>t<t>`.
        CmmRectifier = "CMMRectifier",
        /// A chassis FPGA, `x<c>c<ch>f<f>`.
        CmmFpga = "CMMFpga",
        /// A cabinet environmental controller, `x<c>e<e>`.
        Cec = "CEC",
        /// A compute blade / slot, `x<c>c<ch>s<s>`.
        ComputeModule = "ComputeModule",
        /// A router blade, `x<c>c<ch>r<r>`.
        RouterModule = "RouterModule",
        /// A node BMC, `x<c>c<ch>s<s>b<b>`.
        NodeBmc = "NodeBMC",
        /// A node enclosure, `x<c>c<ch>s<s>e<e>`.
        NodeEnclosure = "NodeEnclosure",
        /// A node enclosure power supply, `x<c>c<ch>s<s>e<e>t<t>`.
        NodeEnclosurePowerSupply = "NodeEnclosurePowerSupply",
        /// An HSN board, `x<c>c<ch>r<r>e<e>`.
        HsnBoard = "HSNBoard",
        /// A management switch, `x<c>c<ch>w<w>`.
        MgmtSwitch = "MgmtSwitch",
        /// A high-level management switch, `x<c>c<ch>h<h>s<s>`.
        MgmtHlSwitch = "MgmtHLSwitch",
        /// A CDU management switch, `d<n>w<w>`.
        CduMgmtSwitch = "CDUMgmtSwitch",
        /// A node, `x<c>c<ch>s<s>b<b>n<n>`.
        Node = "Node",
        /// A virtual node, `...n<n>v<v>`.
        VirtualNode = "VirtualNode",
        /// A processor, `...n<n>p<p>`.
        Processor = "Processor",
        /// A drive, `...n<n>g<g>k<k>`.
        Drive = "Drive",
        /// A storage group, `...n<n>g<g>`.
        StorageGroup = "StorageGroup",
        /// A node NIC, `...n<n>i<i>`.
        NodeNic = "NodeNIC" | "NodeNic",
        /// A memory DIMM, `...n<n>d<d>`.
        Memory = "Memory",
        /// An accelerator (GPU), `...n<n>a<a>`.
        NodeAccel = "NodeAccel",
        /// An accelerator riser, `...n<n>r<r>`.
        NodeAccelRiser = "NodeAccelRiser",
        /// A node FPGA, `...n<n>f<f>`.
        NodeFpga = "NodeFpga",
        /// A switch ASIC, `x<c>c<ch>r<r>a<a>`.
        HsnAsic = "HSNAsic",
        /// A router FPGA, `x<c>c<ch>r<r>f<f>`.
        RouterFpga = "RouterFpga",
        /// A router BMC, `x<c>c<ch>r<r>b<b>`.
        RouterBmc = "RouterBMC",
        /// An HSN link, `x<c>c<ch>r<r>a<a>l<l>`.
        HsnLink = "HSNLink",
        /// An HSN connector, `x<c>c<ch>r<r>j<j>`.
        HsnConnector = "HSNConnector",
        /// SMD's marker for an unrecognized component.
        Invalid = "INVALID",
        /// The whole system, `s0` (not in the spec's enum; SMD's type library has it).
        System = "System",
        /// A cabinet-level BMC, `x<c>b<b>` (SMD type library).
        CabinetBmc = "CabinetBMC",
        /// A node high-speed-network NIC, `...n<n>h<h>` (SMD type library).
        NodeHsnNic = "NodeHsnNic",
        /// An enclosure of high-level switches, `x<c>c<ch>h<h>` (SMD type library).
        MgmtHlSwitchEnclosure = "MgmtHLSwitchEnclosure",
    }
}

string_enum! {
    /// `HMSState.1.0.0`: a component's logical state.
    HmsState, "HMS state" {
        /// State is not known.
        Unknown = "Unknown",
        /// The location is empty.
        Empty = "Empty",
        /// Present but not powered / not yet known to be powered.
        Populated = "Populated",
        /// Powered off.
        Off = "Off",
        /// Powered on.
        On = "On",
        /// Powered on, waiting (e.g. lost heartbeat).
        Standby = "Standby",
        /// Halted.
        Halt = "Halt",
        /// Booted and ready (heartbeating).
        Ready = "Ready",
    }
}

string_enum! {
    /// `HMSFlag.1.0.0`: the flag qualifying a component's state.
    HmsFlag, "HMS flag" {
        /// Nothing to report.
        Ok = "OK",
        /// Something is off but not failed.
        Warning = "Warning",
        /// Something failed.
        Alert = "Alert",
        /// Locked.
        Locked = "Locked",
    }
}

string_enum! {
    /// `NetType.1.0.0`: the high-speed network kind.
    NetType, "network type" {
        /// HPE Slingshot.
        Sling = "Sling",
        /// InfiniBand.
        Infiniband = "Infiniband",
        /// Ethernet.
        Ethernet = "Ethernet",
        /// Vendor specific.
        Oem = "OEM",
        /// No high-speed network.
        None = "None",
    }
}

string_enum! {
    /// `HMSArch.1.0.0`: a component's CPU architecture (plus SMD's `UNKNOWN`).
    HmsArch, "architecture" {
        /// x86-64.
        X86 = "X86",
        /// ARM / aarch64.
        Arm = "ARM",
        /// Anything else.
        Other = "Other",
        /// Not known (SMD's default for undiscovered components).
        Unknown = "UNKNOWN",
    }
}

string_enum! {
    /// `HMSClass.1.0.0`: the hardware class.
    HmsClass, "hardware class" {
        /// Standard rack-mount hardware.
        River = "River",
        /// Liquid-cooled cabinet hardware.
        Mountain = "Mountain",
        /// Liquid-cooled hardware in standard racks.
        Hill = "Hill",
    }
}

string_enum! {
    /// The `ComponentEndpointType` discriminator of a ComponentEndpoint.
    ComponentEndpointType, "component endpoint type" {
        /// A Redfish Chassis.
        Chassis = "ComponentEndpointChassis",
        /// A Redfish ComputerSystem (a node).
        ComputerSystem = "ComponentEndpointComputerSystem",
        /// A Redfish Manager (a BMC).
        Manager = "ComponentEndpointManager",
        /// A Redfish PowerDistribution (a PDU).
        PowerDistribution = "ComponentEndpointPowerDistribution",
        /// A PDU outlet.
        Outlet = "ComponentEndpointOutlet",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_emits_spec_spelling() {
        assert_eq!("nodebmc".parse::<HmsType>(), Ok(HmsType::NodeBmc));
        assert_eq!("NodeNic".parse::<HmsType>(), Ok(HmsType::NodeNic));
        assert_eq!(HmsType::NodeNic.as_str(), "NodeNIC");
        assert_eq!(serde_json::to_string(&HmsState::Off).unwrap(), "\"Off\"");
        assert_eq!(
            serde_json::from_str::<HmsFlag>("\"ok\"").unwrap(),
            HmsFlag::Ok
        );
    }

    #[test]
    fn unknown_value_names_it() {
        let err = "Toaster".parse::<HmsType>().unwrap_err().to_string();
        assert!(err.contains("unknown HMS type \"Toaster\""), "{err}");
        assert!(err.contains("NodeBMC"), "{err}");
        let err = serde_json::from_str::<HmsState>("\"Sleeping\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"Sleeping\""), "{err}");
    }

    #[test]
    fn every_value_round_trips() {
        for t in HmsType::ALL {
            assert_eq!(t.as_str().parse::<HmsType>(), Ok(*t));
        }
        for s in HmsState::ALL {
            assert_eq!(s.to_string().parse::<HmsState>(), Ok(*s));
        }
    }
}
