package settings

// Outbound mode (docs/protocol.md, "Outbound mode"): the node listens on no
// port and dials a management redis instead. Its two settings are resolved
// here, apart from the inbound ones, with the same precedence (command line
// over file).

// Outbound is where the node dials out to; empty URL = the usual inbound node.
type Outbound struct {
	// URL is rediss://HOST:PORT (redis:// only with insecure).
	URL string
	// Pin is "sha256:<hex>" of the management redis server's certificate.
	Pin string
}

func init() {
	fileKeys["mgmt"] = true
	fileKeys["mgmt_pin"] = true
}

// resolveOutbound fills s.Outbound from the file (mgmt=, mgmt_pin=), then
// the command line (zos.mgmt=, zos.mgmt-pin=).
func resolveOutbound(file map[string]string, cmd Cmdline, s *Settings) {
	set := func(dst *string, fileKey, cmdKey string) {
		if v, ok := file[fileKey]; ok {
			*dst, s.Sources[fileKey] = v, "file"
		}
		if v, ok := cmd[cmdKey]; ok {
			*dst, s.Sources[fileKey] = v, "cmdline"
		}
	}
	set(&s.Outbound.URL, "mgmt", "zos.mgmt")
	set(&s.Outbound.Pin, "mgmt_pin", "zos.mgmt-pin")
}
