#!/bin/sh
# Regenerate out/ with Debian unstable's systemd-measure (package systemd-tpm), run in a
# chroot of that suite, as the README says. Run from the repository root:
#   tests/vectors/systemd-measure-262/make-vectors.sh
set -eu
dir=tests/vectors/systemd-measure-262
root=$(python3 ovmf-tests/debian.py chroot sid systemd systemd-tpm --name measure)
python3 - "$root" "$dir" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "ovmf-tests")
import debian
root, d = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
(d / "out").mkdir(exist_ok=True)
version = debian.chroot_run(root, ["/usr/lib/systemd/systemd-measure", "--version"]).splitlines()[0]
(d / "out" / "version").write_text(version + "\n")
lines = [l for l in (d / "commands").read_text().splitlines() if l and not l.startswith("#")]
for i, line in enumerate(lines, 1):
    script = f"cd /v && exec /usr/lib/systemd/systemd-measure {line}"
    out = debian.chroot_run(root, ["sh", "-c", script], binds=[(d, "/v")])
    (d / "out" / f"{i:02d}").write_text(out)
PY
