package templates

// nameKind is the suggestions endpoint's kind for a name filter's field.
func nameKind(field string) string {
	if field == "agent" {
		return "agent"
	}
	return "configuration"
}
