//! Properties of the script renderer: whatever validation accepts renders as exactly the
//! expected lines, each one iPXE command, with the operator's words as arguments only.

use cairn_bootsvc::ipxe::{ChainTarget, ScriptRenderer};
use cairn_protocols::{BootEntry, BootParameters, MacAddr};
use proptest::prelude::*;

use crate::fixture::{config, node};

/// iPXE's `isspace()`.
fn ipxe_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

/// What iPXE executes for one script line (`process_script` + `system()`): the commands,
/// each a list of words, and whether the line was cut by a comment.
fn ipxe_commands(line: &str) -> (Vec<Vec<&str>>, bool) {
    let mut commands = vec![Vec::new()];
    for word in line.split(ipxe_space).filter(|w| !w.is_empty()) {
        if word.starts_with('#') {
            return (commands, true);
        }
        if matches!(word, "||" | "&&" | ";") {
            commands.push(Vec::new());
        } else if let Some(last) = commands.last_mut() {
            last.push(word);
        }
    }
    (commands, false)
}

/// Text made of pieces that could break a script (rare, or nothing would pass validation)
/// and harmless ones that often sit next to them.
fn nasty_text(max: usize) -> impl Strategy<Value = String> {
    let nasty = prop::sample::select(vec![
        "||", "&&", ";", "#", "#!ipxe", "${", "\n", "\r", "\t", "\u{0b}", "\u{0c}", "\0", "é",
        "\u{7f}",
    ]);
    let harmless = prop::sample::select(vec![
        "a",
        "=",
        "/",
        ":",
        " ",
        "  ",
        "}",
        "$",
        "\\",
        "goto",
        "chain",
        "http://h/x",
        "ds=x",
        "initrd=",
        "xname=",
        "nid=",
        "BOOTIF=",
        "-",
        "'",
        "\"",
        "%0a",
        "?",
        "&",
        "|",
        "&&x",
        ";x",
        "x#",
        "$x{",
        "{",
        ":boot_retry",
        "exit",
    ]);
    let piece = prop_oneof![1 => nasty, 12 => harmless];
    prop::collection::vec(piece, 0..max).prop_map(|v| v.concat())
}

fn url_like() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "http://h/",
            "https://h:1/",
            "tftp://h/",
            "/",
            "",
            "s3://b/",
        ]),
        nasty_text(6),
    )
        .prop_map(|(a, b)| format!("{a}{b}"))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        max_global_rejects: 200_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn accepted_input_renders_only_the_expected_commands(
        params in nasty_text(12),
        kernel in url_like(),
        initrd in url_like(),
        retry in 0u32..15,
        with_mac in any::<bool>(),
        by_name in any::<bool>(),
    ) {
        let bp = BootParameters { params, kernel, initrd, ..Default::default() };
        prop_assume!(!bp.kernel.is_empty() && bp.validate().is_ok());
        let entry: BootEntry = bp.entry();
        let r = ScriptRenderer::new(&config());
        let n = node("x1000c0s0b0n0", 1, "Compute", &["aa:bb:cc:00:00:01"]);
        let mac: Option<MacAddr> = with_mac.then(|| n.macs[0]);
        let target = if by_name { ChainTarget::Name(n.xname.clone()) } else { ChainTarget::Mac(n.macs[0]) };
        let params = r.kernel_params(&entry, Some(&n), mac).unwrap();
        let script = r.script(&entry, &params, &target, false, retry).unwrap();

        let lines: Vec<&str> = script.split('\n').collect();
        let has_initrd = !entry.initrd.is_empty();
        // Script lines, then the empty line BSS ends with, then nothing after the last '\n'.
        prop_assert_eq!(lines.len(), if has_initrd { 9 } else { 8 }, "{}", script);
        prop_assert_eq!(&lines[lines.len() - 2..], &["", ""]);
        prop_assert!(!script.contains('\r'));
        let mut expect = vec!["kernel"];
        if has_initrd { expect.push("initrd"); }
        expect.extend(["boot", ":boot_retry", "sleep", if retry < 10 { "chain" } else { "exit" }]);
        prop_assert_eq!(lines[0], "#!ipxe");
        for (line, first) in lines[1..lines.len() - 2].iter().zip(&expect) {
            prop_assert!(!line.ends_with('\\'), "continuation: {line}");
            let (cmds, comment) = ipxe_commands(line);
            prop_assert!(!comment, "comment in {line}");
            prop_assert_eq!(cmds[0][0], *first, "{}", line);
            if matches!(*first, "kernel" | "initrd" | "boot") {
                // One command, then exactly `|| goto boot_retry`.
                prop_assert_eq!(cmds.len(), 2, "{}", line);
                prop_assert_eq!(&cmds[1], &vec!["goto", "boot_retry"]);
            } else {
                prop_assert_eq!(cmds.len(), 1, "{}", line);
            }
            let expansions = line.matches("${").count();
            prop_assert_eq!(expansions, 0, "settings expansion in {}", line);
        }
        // The operator's words are the kernel's arguments, in order, untouched.
        let (cmds, _) = ipxe_commands(lines[1]);
        let stored: Vec<&str> = entry.params.split(' ').filter(|w| !w.is_empty())
            .filter(|w| !(has_initrd && w.starts_with("initrd="))).collect();
        let args = &cmds[0][4..];
        let offset = usize::from(has_initrd);
        prop_assert_eq!(&args[offset..offset + stored.len()], stored.as_slice());
        prop_assert_eq!(cmds[0][3], entry.kernel.as_str());
    }

    #[test]
    fn validation_never_panics_and_rejects_line_breaks(s in "\\PC*[\\n\\r]\\PC*") {
        prop_assert!(cairn_protocols::validate_params(&s).is_err());
        prop_assert!(cairn_protocols::validate_image_path("kernel", &s).is_err());
    }
}
