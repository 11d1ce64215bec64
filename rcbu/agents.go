package rcbu

import (
	"encoding/json"
)

// Agent is a backup agent installed on a server (§3).
type Agent struct {
	ID                         AgentID     `json:"MachineAgentId"`
	AgentVersion               string      `json:"AgentVersion"`
	Architecture               string      `json:"Architecture"`
	Flavor                     string      `json:"Flavor"`
	BackupVaultSize            *Size       `json:"BackupVaultSize"` // nil for a new agent
	BackupContainer            string      `json:"BackupContainer"`
	CleanupAllowed             bool        `json:"CleanupAllowed"`
	Datacenter                 string      `json:"Datacenter"`
	BackupDatacenter           string      `json:"BackupDatacenter"` // also decoded from "BackupDataCenter"
	IPAddress                  string      `json:"IPAddress"`
	IsDisabled                 bool        `json:"IsDisabled"`
	IsEncrypted                bool        `json:"IsEncrypted"`
	MachineName                string      `json:"MachineName"`
	OperatingSystem            string      `json:"OperatingSystem"`
	OperatingSystemVersion     string      `json:"OperatingSystemVersion"`
	PublicKey                  *PublicKey  `json:"PublicKey"`
	Status                     AgentStatus `json:"Status"` // AgentStatusUnknown in lists
	TimeOfLastSuccessfulBackup MSDate      `json:"TimeOfLastSuccessfulBackup"`
	UseServiceNet              bool        `json:"UseServiceNet"`
	UseFailoverURI             bool        `json:"UseFailoverUri"`
	HostServerID               string      `json:"HostServerId"`

	// Region is the catalog region of the endpoint that returned the agent
	// ("" for a client with a single, unnamed endpoint).
	Region string `json:"-"`
}

// UnmarshalJSON decodes an agent, accepting "true"/"false" strings for
// booleans and numbers or digit strings for the id.
func (a *Agent) UnmarshalJSON(b []byte) error {
	type alias Agent
	aux := struct {
		*alias
		CleanupAllowed flexBool `json:"CleanupAllowed"`
		IsDisabled     flexBool `json:"IsDisabled"`
		IsEncrypted    flexBool `json:"IsEncrypted"`
		UseServiceNet  flexBool `json:"UseServiceNet"`
		UseFailoverURI flexBool `json:"UseFailoverUri"`
	}{alias: (*alias)(a)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	a.CleanupAllowed, a.IsDisabled, a.IsEncrypted = bool(aux.CleanupAllowed), bool(aux.IsDisabled), bool(aux.IsEncrypted)
	a.UseServiceNet, a.UseFailoverURI = bool(aux.UseServiceNet), bool(aux.UseFailoverURI)
	return nil
}

// Online reports whether the agent's status is a live "Online". The
// placeholder "Unknown" of the agent list is not online (and not offline).
func (a *Agent) Online() bool { return a.Status == AgentStatusOnline }

// Enabled reports whether the agent is enabled.
func (a *Agent) Enabled() bool { return !a.IsDisabled }

// Encrypted reports whether the agent's vault is encrypted.
func (a *Agent) Encrypted() bool { return a.IsEncrypted }

// StatusKnown reports whether Status is a live value (from Get), not the
// list placeholder.
func (a *Agent) StatusKnown() bool {
	return a.Status == AgentStatusOnline || a.Status == AgentStatusOffline
}
