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
