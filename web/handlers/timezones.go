package handlers

import "slices"

// commonTimeZones are the IANA zones offered in the profile; the user's
// current zone is added when it is not among them.
func commonTimeZones() []string {
	return []string{
		"UTC",
		"America/Los_Angeles", "America/Denver", "America/Phoenix", "America/Chicago", "America/New_York",
		"America/Halifax", "America/Sao_Paulo", "America/Mexico_City", "America/Toronto", "America/Vancouver",
		"Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
		"Europe/Madrid", "Europe/Rome", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki",
		"Europe/Istanbul", "Europe/Moscow", "Africa/Johannesburg", "Africa/Lagos", "Africa/Cairo",
		"Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Singapore",
		"Asia/Hong_Kong", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul", "Australia/Perth", "Australia/Adelaide",
		"Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland", "Pacific/Honolulu",
	}
}

// timeZones returns the zones to offer, including current.
func timeZones(current string) []string {
	zs := commonTimeZones()
	if current != "" && !slices.Contains(zs, current) {
		zs = append(zs, current)
	}
	return zs
}
