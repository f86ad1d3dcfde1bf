// Package settings resolves the agent's configuration from the optional
// build-time config file and the kernel command line.
//
// The kernel command line wins over the file: the file is baked into the
// image, while the command line is what an operator can change per boot
// (iPXE script, bootloader entry) without rebuilding.
package settings

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Default locations on the node.
const (
	CmdlinePath = "/proc/cmdline"
	ConfigPath  = "/etc/zos/core0.conf"
)

// Run modes accepted for runmode=.
var RunModes = []string{"prod", "test", "dev", "qa"}

// Settings is the resolved configuration.
type Settings struct {
	// OperatorKeys lists the operator public keys whose signed tokens open
	// the management port (text form, see package gate); public material only.
	OperatorKeys string
	Debug        bool
	RunMode      string
	FarmerID     string
	Hostname     string
	Insecure     bool
	// Outbound, when its URL is set, makes the node dial out to a
	// management redis instead of listening (outbound.go).
	Outbound Outbound
	// Sources records where each non-default value came from ("cmdline" or
	// "file"), so the boot log can explain the effective configuration
	// without printing secrets.
	Sources map[string]string
}

// Cmdline is the parsed kernel command line: key → value, with flags (no
// '=') mapped to "".
type Cmdline map[string]string

// ParseCmdline splits a kernel command line the way the kernel does:
// whitespace separates parameters, double quotes group a value with spaces.
// Later occurrences of a key override earlier ones, as for the kernel.
func ParseCmdline(s string) Cmdline {
	out := Cmdline{}
	var tok strings.Builder
	inQuote, have := false, false
	flush := func() {
		if !have {
			return
		}
		t := tok.String()
		tok.Reset()
		have = false
		if i := strings.IndexByte(t, '='); i >= 0 {
			out[t[:i]] = t[i+1:]
		} else {
			out[t] = ""
		}
	}
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case !inQuote && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			flush()
		default:
			tok.WriteRune(r)
			have = true
		}
	}
	flush()
	return out
}

// ParseConfig reads key=value lines. Blank lines and lines starting with '#'
// are ignored; values may be wrapped in single or double quotes. Malformed
// lines are reported but do not stop parsing: a typo in one line must not
// cost the node its operator keys.
func ParseConfig(r io.Reader) (map[string]string, []string) {
	out := map[string]string{}
	var warns []string
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.IndexByte(line, '=')
		if i <= 0 {
			warns = append(warns, fmt.Sprintf("config line %d: expected key=value", n))
			continue
		}
		key := strings.TrimSpace(line[:i])
		val := strings.TrimSpace(line[i+1:])
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			val = val[1 : len(val)-1]
		}
		out[key] = val
	}
	if err := sc.Err(); err != nil {
		warns = append(warns, "config: "+err.Error())
	}
	return out, warns
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on", "":
		return true, true
	case "0", "false", "no", "off":
		return false, true
	}
	return false, false
}

var fileKeys = map[string]bool{
	"operator_keys": true, "debug": true, "runmode": true,
	"farmer_id": true, "hostname": true, "insecure_dev": true,
}

// sourceKeys names each setting in one source of settings.
type sourceKeys struct {
	origin                                             string
	keys, debug, runmode, farmerID, hostname, insecure string
}

var (
	fileSourceKeys    = sourceKeys{"file", "operator_keys", "debug", "runmode", "farmer_id", "hostname", "insecure_dev"}
	cmdlineSourceKeys = sourceKeys{"cmdline", "zos.keys", "zos.debug", "runmode", "farmer_id", "hostname", "zos.insecure"}
)

// Resolve applies defaults, then the config file, then the command line.
// It returns warnings for values it ignored.
func Resolve(file map[string]string, cmd Cmdline, debugDefault bool) (Settings, []string) {
	s := Settings{RunMode: "prod", Debug: debugDefault, Sources: map[string]string{}}
	var warns []string

	setBool := func(dst *bool, name, raw, src string) {
		b, ok := parseBool(raw)
		if !ok {
			warns = append(warns, fmt.Sprintf("%s: %s: not a boolean: %q", src, name, raw))
			return
		}
		*dst = b
		s.Sources[name] = src
	}
	setRunMode := func(v, src string) {
		for _, m := range RunModes {
			if v == m {
				s.RunMode = v
				s.Sources["runmode"] = src
				return
			}
		}
		warns = append(warns, fmt.Sprintf("%s: runmode %q is not one of %v; keeping %q", src, v, RunModes, s.RunMode))
	}

	// The shared password is gone (docs/protocol.md, threat model): say so instead of ignoring it.
	if _, ok := cmd["zos.password"]; ok {
		warns = append(warns, "cmdline: zos.password is no longer used; clients authenticate with tokens "+
			"signed by an operator key (zos.keys=)")
	}
	for k := range file {
		if k == "password" {
			warns = append(warns, "file: password is no longer used; set operator_keys= instead")
		} else if !fileKeys[k] {
			warns = append(warns, fmt.Sprintf("file: unknown key %q ignored", k))
		}
	}
	// Both sources set the same settings under their own key names; the file comes first so the
	// command line (what an operator changes per boot) wins.
	apply := func(src map[string]string, k sourceKeys) {
		if v, ok := src[k.keys]; ok {
			s.OperatorKeys, s.Sources["operator_keys"] = v, k.origin
		}
		if v, ok := src[k.debug]; ok {
			setBool(&s.Debug, "debug", v, k.origin)
		}
		if v, ok := src[k.runmode]; ok {
			setRunMode(v, k.origin)
		}
		if v, ok := src[k.farmerID]; ok {
			s.FarmerID, s.Sources["farmer_id"] = v, k.origin
		}
		if v, ok := src[k.hostname]; ok && v != "" {
			s.Hostname, s.Sources["hostname"] = v, k.origin
		}
		if v, ok := src[k.insecure]; ok {
			// A bare flag means true on the command line; an empty value in the file is a mistake.
			if k.origin == "file" && strings.TrimSpace(v) == "" {
				warns = append(warns, "file: insecure_dev needs true or false")
			} else {
				setBool(&s.Insecure, "insecure", v, k.origin)
			}
		}
	}
	apply(file, fileSourceKeys)
	apply(cmd, cmdlineSourceKeys)
	resolveOutbound(file, cmd, &s)
	if s.Hostname != "" && !ValidHostname(s.Hostname) {
		warns = append(warns, fmt.Sprintf("hostname %q is not a valid host name; it will be derived from the MAC", s.Hostname))
		s.Hostname = ""
		delete(s.Sources, "hostname")
	}
	return s, warns
}

// ValidHostname accepts RFC 1123 labels joined by dots, at most 64 bytes
// (the kernel's limit for sethostname).
func ValidHostname(h string) bool {
	if h == "" || len(h) > 64 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Load reads both sources from their usual paths. A missing config file is
// normal; any other read error is returned as a warning.
func Load(cmdlinePath, configPath string, debugDefault bool) (Settings, []string) {
	var warns []string
	cmd := Cmdline{}
	if b, err := os.ReadFile(cmdlinePath); err == nil {
		cmd = ParseCmdline(string(b))
	} else {
		warns = append(warns, "cannot read kernel command line: "+err.Error())
	}
	file := map[string]string{}
	if f, err := os.Open(configPath); err == nil {
		var w []string
		file, w = ParseConfig(f)
		f.Close()
		warns = append(warns, w...)
	} else if !os.IsNotExist(err) {
		warns = append(warns, "cannot read "+configPath+": "+err.Error())
	}
	s, w := Resolve(file, cmd, debugDefault)
	return s, append(warns, w...)
}
