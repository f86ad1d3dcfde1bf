// Package validate checks client-supplied names before they reach the
// kernel or a tool's argument list: device paths, interface names, sizes,
// addresses. Every check returns an error that names the argument.
package validate

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
)

var (
	sizeSpec = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(s|B|kB|KiB|MB|MiB|GB|GiB|TB|TiB|%)?$`)
	hwaddr   = regexp.MustCompile(`^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$`)
)

// word reports whether s is 1 to max bytes: a letter or digit, then letters, digits or bytes of
// more. Written out rather than as a regexp: a counted repetition like {0,254} compiles into one
// program state per count, and compiling those at start-up was most of core0's package
// initialisation (GODEBUG=inittrace=1), slow on the emulated CPU every test boot runs on.
func word(s string, max int, more string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || strings.IndexByte(more, c) < 0) {
			return false
		}
	}
	return true
}

// devPath reports whether p is /dev/<name> or /dev/mapper/<name>, name up to 64 bytes.
func devPath(p string) bool {
	if !strings.HasPrefix(p, "/dev/") {
		return false
	}
	name := strings.TrimPrefix(p, "/dev/")
	if strings.HasPrefix(name, "mapper/") {
		name = strings.TrimPrefix(name, "mapper/")
	}
	return word(name, 64, "._-")
}

// BlockDevice checks that arg is /dev/<name> and is a block device.
func BlockDevice(arg, p string) error {
	if !devPath(p) || strings.Contains(p, "..") {
		return fmt.Errorf("argument %s must be a block device path like /dev/vdb, got %q", arg, p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("argument %s: %s does not exist", arg, p)
	}
	if st.Mode()&os.ModeDevice == 0 || st.Mode()&os.ModeCharDevice != 0 {
		return fmt.Errorf("argument %s: %s is not a block device", arg, p)
	}
	return nil
}

// Interface checks a network interface name (what the kernel accepts,
// without characters that mean something to ip or nft).
func Interface(arg, name string) error {
	if !word(name, 15, "_.-") {
		return fmt.Errorf("argument %s must be an interface name (1-15 of A-Z a-z 0-9 _ . -), got %q", arg, name)
	}
	return nil
}

// Size checks a parted position/size: a number with an optional unit
// (s, B, kB, KiB, MB, MiB, GB, GiB, TB, TiB or %).
func Size(arg, s string) error {
	if !sizeSpec.MatchString(s) {
		return fmt.Errorf("argument %s must be a size like 1MiB, 512MB, 100%% or a number, got %q", arg, s)
	}
	return nil
}

// Label checks a filesystem label.
func Label(arg, s string) error {
	if !word(s, 255, " ._-") {
		return fmt.Errorf("argument %s must be 1-255 of A-Z a-z 0-9 space . _ -, starting with a letter or digit, got %q", arg, s)
	}
	return nil
}

// CIDR checks an address with prefix length, e.g. 10.1.0.1/24.
func CIDR(arg, s string) error {
	if _, _, err := net.ParseCIDR(s); err != nil {
		return fmt.Errorf("argument %s must be an address with prefix length like 10.1.0.1/24, got %q", arg, s)
	}
	return nil
}

// Network checks a destination: "default" or a CIDR.
func Network(arg, s string) error {
	if s == "default" {
		return nil
	}
	return CIDR(arg, s)
}

// IP checks a plain address.
func IP(arg, s string) error {
	if net.ParseIP(s) == nil {
		return fmt.Errorf("argument %s must be an IP address, got %q", arg, s)
	}
	return nil
}

// HWAddr checks a MAC address.
func HWAddr(arg, s string) error {
	if !hwaddr.MatchString(s) {
		return fmt.Errorf("argument %s must be a MAC address like 52:54:00:12:34:56, got %q", arg, s)
	}
	return nil
}

// OneOf checks s against allowed values.
func OneOf(arg, s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return fmt.Errorf("argument %s must be one of %s, got %q", arg, strings.Join(allowed, ", "), s)
}
