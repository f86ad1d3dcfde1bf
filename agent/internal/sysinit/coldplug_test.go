package sysinit

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// modules.alias as depmod writes it, with the fnmatch forms modaliases use.
const aliasFile = `# Aliases extracted from modules themselves.
alias fs-efivarfs efivarfs
alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
alias usb:v*p*d*dc*dsc*dp*ic09isc*ip*in* hub
alias acpi*:PNP0C0[!9]:* demo
`

func TestColdplugMatching(t *testing.T) {
	file := filepath.Join(t.TempDir(), "modules.alias")
	os.WriteFile(file, []byte(aliasFile), 0o644)
	patterns, err := aliasPatterns(file)
	if err != nil || len(patterns) != 5 {
		t.Fatalf("aliasPatterns: %v, %v", patterns, err)
	}
	devices := []string{
		"pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00", // an e1000e NIC
		"pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", // virtio-net: built in, no module
		"acpi:PNP0C0A:", // matches [!9]
		"acpi:PNP0C09:", // excluded by [!9]
		"cpu:type:x86,ven0000fam0006mod003A:feature:,0000", // no pattern
	}
	got := matchingAliases(devices, patterns)
	want := []string{devices[0], devices[2]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("matchingAliases = %q, want %q", got, want)
	}
	if got := matchingAliases(devices[1:2], patterns); len(got) != 0 {
		t.Fatalf("a device no module serves must not run modprobe: %q", got)
	}
}

// The cheap scan sees what the plain glob sees, on this machine's own sysfs.
func TestDeviceAliases(t *testing.T) {
	files, _ := filepath.Glob("/sys/bus/*/devices/*/modalias")
	if len(files) == 0 {
		t.Skip("no sysfs device with a modalias here")
	}
	seen := map[string]bool{}
	want := []string{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if a := strings.TrimSpace(string(b)); a != "" && !seen[a] {
			seen[a] = true
			want = append(want, a)
		}
	}
	sort.Strings(want)
	if got := deviceAliases(); !reflect.DeepEqual(got, want) {
		t.Fatalf("deviceAliases = %q\nglob finds %q", got, want)
	}
}
