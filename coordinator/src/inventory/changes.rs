//! When each kind of record last changed on this replica: bookkeeping for readers that
//! derive something from the records, so an agent's Watch stream recomputes its work, and
//! boot serving drops its rendered answers, only after a command that can change them, not
//! after each of the thousands of power results a transition brings in.
//!
//! The marks are local and derived (a restore sets them all to the restored revision), so
//! they take no part in snapshots or in the inventory's equality.

use cairn_protocols::agent::ReportItem;

use super::agents::AgentCommand;
use super::boot::BootCommand;
use super::command::Command;
use super::desired::{DesiredLog, Touch};

/// The revisions at which each kind of record last changed (see the module docs).
#[derive(Debug, Clone, Default)]
pub(super) struct ChangeMarks {
    /// Anything an agent's Watch stream is computed from: transitions, endpoints, discover
    /// requests, registrations.
    pub(super) agent_work: u64,
    /// Anything a bootscript or cloud-init answer is rendered from: components, interfaces,
    /// groups, boot parameters, cloud-init data.
    pub(super) boot_answers: u64,
    /// Which nodes' desired records changed when (see `desired`).
    pub(super) desired: DesiredLog,
}

impl PartialEq for ChangeMarks {
    /// Always equal: the marks describe this replica's history, not the inventory's state.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ChangeMarks {
    /// Every mark at `revision` (after a restore, everything may have changed).
    pub(super) fn all_at(revision: u64) -> ChangeMarks {
        ChangeMarks {
            agent_work: revision,
            boot_answers: revision,
            desired: DesiredLog::starting_at(revision),
        }
    }

    /// Notes that `cmd`, which may change the desired records `touch` lists, was applied at
    /// `revision`.
    pub(super) fn note(&mut self, cmd: &Command, revision: u64, touch: Touch) {
        if may_change_agent_work(cmd) {
            self.agent_work = revision;
        }
        if may_change_boot_answers(cmd) {
            self.boot_answers = revision;
        }
        self.desired.record(revision, touch);
    }
}

/// Whether a report carries discovery results (which add and change components, interfaces
/// and endpoints); power results, samples and acknowledgements change none of them.
fn has_discovery(cmd: &Command) -> bool {
    report_has(cmd, |i| matches!(i, ReportItem::Discovery(_)))
}

/// Whether a report changes interfaces: discovery, MACs seen and addresses given by a rack
/// (boot events and phone-homes, by the thousand in a boot storm, change none).
fn changes_interfaces(cmd: &Command) -> bool {
    report_has(cmd, |i| {
        matches!(
            i,
            ReportItem::Discovery(_) | ReportItem::MacSeen(_) | ReportItem::LeaseAssigned(_)
        )
    })
}

fn report_has(cmd: &Command, pred: impl Fn(&ReportItem) -> bool) -> bool {
    match cmd {
        Command::Agent(AgentCommand::Report { report, .. }) => report.items.iter().any(pred),
        _ => false,
    }
}

/// False only for what provably leaves every agent's work alone: reports carrying power
/// results, power samples and discover acknowledgements (a result finishes a task, which no
/// agent needs to be told; only discovery can make a waiting task sendable).
fn may_change_agent_work(cmd: &Command) -> bool {
    match cmd {
        Command::Agent(AgentCommand::Report { .. }) => has_discovery(cmd),
        _ => true,
    }
}

/// False for what provably leaves boot answers alone: power transitions and their ticks,
/// agent registrations and discover requests, reports that change no interface, and
/// phone-home records (stored for operators, never rendered into an answer; a booting rack
/// sends thousands).
fn may_change_boot_answers(cmd: &Command) -> bool {
    match cmd {
        Command::Power(_) | Command::Boot(BootCommand::PhoneHome { .. }) => false,
        Command::Agent(AgentCommand::Report { .. }) => changes_interfaces(cmd),
        Command::Agent(_) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocols::agent::Report;

    fn report(items: Vec<ReportItem>) -> Command {
        Command::Agent(AgentCommand::Report {
            report: Report {
                agent_id: "rack-1".into(),
                seq: 1,
                items,
            },
            now_ms: 0,
        })
    }

    #[test]
    fn only_discovery_in_a_report_marks_agent_work() {
        let mut marks = ChangeMarks::all_at(3);
        marks.note(
            &report(vec![ReportItem::DiscoverDone(1)]),
            4,
            Touch::Nothing,
        );
        assert_eq!(marks.agent_work, 3);
        marks.note(&Command::DeleteAllRedfishEndpoints, 5, Touch::Nothing);
        assert_eq!(marks.agent_work, 5);
    }

    #[test]
    fn power_leaves_boot_answers_alone() {
        let mut marks = ChangeMarks::all_at(3);
        marks.note(
            &Command::Power(crate::inventory::PowerCommand::Tick { now_ms: 1 }),
            4,
            Touch::Nothing,
        );
        marks.note(
            &report(vec![ReportItem::DiscoverDone(1)]),
            5,
            Touch::Nothing,
        );
        assert_eq!((marks.agent_work, marks.boot_answers), (4, 3));
        marks.note(&Command::DeleteAllComponents, 6, Touch::Everything);
        assert_eq!(marks.boot_answers, 6);
    }
}
