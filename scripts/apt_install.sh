# Sourced by setup.sh and ci_services.sh (they define `say`): apt_install PACKAGE...
# Runs apt-get when we may (root, or sudo without a password); returns 1 otherwise.
apt_install() {
    local runner=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo -n true 2>/dev/null || return 1
        runner=(sudo -n)
    fi
    command -v apt-get >/dev/null || return 1
    say "installing Debian packages: $*"
    "${runner[@]}" apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${runner[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
