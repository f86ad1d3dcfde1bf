package info

import (
	"fmt"
	"strings"
)

// DMISection is one SMBIOS structure in 0-core's info.dmi shape (which
// parses dmidecode); here it is read from the kernel's /sys/class/dmi/id.
type DMISection struct {
	Title      string                 `json:"title"`
	TypeStr    string                 `json:"typestr"`
	Type       int                    `json:"typenum"`
	Properties map[string]DMIProperty `json:"properties"`
}

// DMIProperty is a value of a section.
type DMIProperty struct {
	Value string `json:"value"`
}

type dmiType struct {
	num   int
	name  string // dmidecode's keyword
	title string
	props [][2]string // property name, file under /sys/class/dmi/id
}

var dmiTypes = []dmiType{
	{0, "bios", "BIOS Information", [][2]string{{"Vendor", "bios_vendor"}, {"Version", "bios_version"},
		{"Release Date", "bios_date"}}},
	{1, "system", "System Information", [][2]string{{"Manufacturer", "sys_vendor"}, {"Product Name", "product_name"},
		{"Version", "product_version"}, {"Serial Number", "product_serial"}, {"UUID", "product_uuid"},
		{"SKU Number", "product_sku"}, {"Family", "product_family"}}},
	{2, "baseboard", "Base Board Information", [][2]string{{"Manufacturer", "board_vendor"}, {"Product Name", "board_name"},
		{"Version", "board_version"}, {"Serial Number", "board_serial"}, {"Asset Tag", "board_asset_tag"}}},
	{3, "chassis", "Chassis Information", [][2]string{{"Manufacturer", "chassis_vendor"}, {"Type", "chassis_type"},
		{"Version", "chassis_version"}, {"Serial Number", "chassis_serial"}, {"Asset Tag", "chassis_asset_tag"}}},
}

// DMISelect validates info.dmi's types argument (type numbers or
// dmidecode keywords); empty selects all.
func DMISelect(types []interface{}) (map[int]bool, error) {
	sel := map[int]bool{}
	for _, t := range types {
		found := false
		for _, d := range dmiTypes {
			switch v := t.(type) {
			case float64:
				found = found || float64(d.num) == v
				if float64(d.num) == v {
					sel[d.num] = true
				}
			case string:
				if strings.EqualFold(v, d.name) {
					sel[d.num], found = true, true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("argument types: %v is not a supported DMI type (0-3 or bios, system, baseboard, chassis)", t)
		}
	}
	return sel, nil
}

// DMI returns the selected sections, keyed by title; files the kernel does
// not provide (no DMI on the machine, or unreadable) are left out.
func DMI(sel map[int]bool) map[string]DMISection {
	out := map[string]DMISection{}
	for _, d := range dmiTypes {
		if len(sel) > 0 && !sel[d.num] {
			continue
		}
		sec := DMISection{Title: d.title, TypeStr: d.title, Type: d.num, Properties: map[string]DMIProperty{}}
		for _, p := range d.props {
			if v := strings.TrimSpace(read("/sys/class/dmi/id/" + p[1])); v != "" {
				sec.Properties[p[0]] = DMIProperty{Value: v}
			}
		}
		if len(sec.Properties) > 0 {
			out[d.title] = sec
		}
	}
	return out
}
