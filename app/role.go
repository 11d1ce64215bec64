package app

import "fmt"

// Role is what a user may do. The roles mirror Rackspace Cloud Backup's RBAC:
// an Observer reads, a Creator also runs and edits, an Admin does everything.
// Roles are ordered: a higher role allows everything a lower one does.
type Role int

// The roles, lowest first. The zero Role is no role at all (anonymous).
const (
	RoleNone Role = iota
	RoleObserver
	RoleCreator
	RoleAdmin
)

// Roles lists the assignable roles, lowest first.
func Roles() []Role { return []Role{RoleObserver, RoleCreator, RoleAdmin} }

// Allows reports whether r includes the minimum role min.
func (r Role) Allows(min Role) bool { return r >= min && r != RoleNone }

// String returns the role's stable name, used in the database and in forms.
func (r Role) String() string {
	switch r {
	case RoleObserver:
		return "observer"
	case RoleCreator:
		return "creator"
	case RoleAdmin:
		return "admin"
	default:
		return "none"
	}
}

// Label returns the role's name for people.
func (r Role) Label() string {
	switch r {
	case RoleObserver:
		return "Observer"
	case RoleCreator:
		return "Creator"
	case RoleAdmin:
		return "Admin"
	default:
		return "None"
	}
}

// Description says in a few words what the role may do.
func (r Role) Description() string {
	switch r {
	case RoleObserver:
		return "Read only"
	case RoleCreator:
		return "Run and stop backups and restores, create and edit configurations"
	case RoleAdmin:
		return "Everything, including deleting agents and configurations, encryption, users and accounts"
	default:
		return ""
	}
}

// ParseRole parses a role name as produced by String.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if r.String() == s {
			return r, nil
		}
	}
	return RoleNone, fmt.Errorf("role %q: %w", s, ErrInvalid)
}
