package validate

import "testing"

func TestValidate(t *testing.T) {
	good := []error{Interface("n", "br0"), Interface("n", "veth-c1.2"), Size("s", "1MiB"), Size("s", "100%"),
		Size("s", "2048"), Label("l", "data 1"), CIDR("c", "10.0.0.1/24"), CIDR("c", "fd00::1/64"),
		Network("d", "default"), HWAddr("h", "52:54:00:aa:bb:cc"), OneOf("t", "gpt", "gpt", "msdos")}
	for i, err := range good {
		if err != nil {
			t.Errorf("good %d: %v", i, err)
		}
	}
	bad := []error{Interface("n", ""), Interface("n", "br0; reboot"), Interface("n", "averyveryverylongname"),
		Size("s", "1MiB; rm"), Size("s", "-1"), Label("l", "-f"), CIDR("c", "10.0.0.1"), IP("i", "x"),
		BlockDevice("d", "/dev/../etc/passwd"), BlockDevice("d", "/etc/passwd"), BlockDevice("d", "/dev/null"),
		BlockDevice("d", "/dev/nonexistent-zos"), HWAddr("h", "52:54:00"), OneOf("t", "zfs", "gpt")}
	for i, err := range bad {
		if err == nil {
			t.Errorf("bad %d accepted", i)
		}
	}
}

// The length limits and character sets of names, at their edges.
func TestNameLimits(t *testing.T) {
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct {
		ok   bool
		what string
		got  bool
	}{
		{true, "15-byte interface", Interface("n", long(15)) == nil},
		{false, "16-byte interface", Interface("n", long(16)) == nil},
		{false, "interface starting with -", Interface("n", "-eth0") == nil},
		{true, "255-byte label", Label("l", long(255)) == nil},
		{false, "256-byte label", Label("l", long(256)) == nil},
		{false, "label with a slash", Label("l", "a/b") == nil},
		{true, "/dev/vdb", devPath("/dev/vdb")},
		{true, "/dev/mapper/vg0-data", devPath("/dev/mapper/vg0-data")},
		{true, "64-byte device name", devPath("/dev/" + long(64))},
		{false, "65-byte device name", devPath("/dev/" + long(65))},
		{false, "/dev/", devPath("/dev/")},
		{false, "/dev/mapper/", devPath("/dev/mapper/")},
		{false, "/dev/sub/dir", devPath("/dev/sub/dir")},
		{false, "/devx", devPath("/devx")},
	}
	for _, c := range cases {
		if c.got != c.ok {
			t.Errorf("%s: accepted=%v, want %v", c.what, c.got, c.ok)
		}
	}
}
