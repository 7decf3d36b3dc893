#!/bin/bash
# SPDX-License-Identifier: MIT
# dracut module: sysext-stub-admit.service and the sysext-stub binary, plus the
# verity certificates systemd-sysext trusts (so `sysext-stub admit` checks the
# same signatures). Install with: make install-dracut DESTDIR=/ (or copy this
# directory to /usr/lib/dracut/modules.d/90sysext-stub/).

check() {
    require_binaries sysext-stub || return 1
    return 0
}

depends() {
    echo systemd
}

install() {
    inst_binary sysext-stub /usr/bin/sysext-stub
    inst_simple "$moddir/sysext-stub-admit.service" "$systemdsystemunitdir/sysext-stub-admit.service"
    $SYSTEMCTL -q --root "$initdir" add-wants initrd.target sysext-stub-admit.service
    local d f
    for d in /etc/verity.d /usr/lib/verity.d; do
        for f in "$dracutsysrootdir$d"/*.crt; do
            [[ -e "$f" ]] && inst_simple "${f#"$dracutsysrootdir"}"
        done
    done
}
