package rcbu

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
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

// vaultContainerPrefix starts the name of a vault's Cloud Files container;
// the vault id follows it (§3, §3.13).
const vaultContainerPrefix = "z_DO_NOT_DELETE_CloudBackup_v2_0_"

// VaultID returns the id of the agent's vault, read from the name of its
// container (BackupContainer), or "" when the container is not named that
// way. It makes no call.
func (a *Agent) VaultID() VaultID {
	i := strings.LastIndex(a.BackupContainer, "/")
	name := a.BackupContainer[i+1:]
	id, ok := strings.CutPrefix(name, vaultContainerPrefix)
	if !ok {
		return ""
	}
	return VaultID(id)
}

// AgentsService handles agents (§3, §4).
type AgentsService service

func (s *AgentsService) post(a *Agent, ep int) {
	a.Region = s.client.endpoints[ep].Region
	s.client.remember(kindAgent, int64(a.ID), ep)
}

// Get returns an agent's details, with its live Status. It makes a call.
//
// API: GET /v1.0/{tenant}/agent/{machineAgentId}
func (s *AgentsService) Get(ctx context.Context, id AgentID) (*Agent, error) {
	a, ep, err := getOne[Agent](ctx, s.client, fmt.Sprintf("get agent %d", id), kindAgent, int64(id), fmt.Sprintf("agent/%d", id))
	if err != nil {
		return nil, err
	}
	s.post(a, ep)
	return a, nil
}

// List returns every agent of the account, sorted by id. Status is the
// placeholder AgentStatusUnknown here: use Get or GetMany for live values.
// It makes one call per region.
//
// API: GET /v1.0/{tenant}/user/agents
func (s *AgentsService) List(ctx context.Context) ([]Agent, error) {
	return listAll(ctx, s.client, "list agents", "user/agents",
		func(a *Agent) int64 { return int64(a.ID) }, s.post)
}

// GetMany returns the details of several agents in the order of ids,
// fetching them concurrently (bounded by WithConcurrency). The first error
// cancels the rest. It makes one call per agent.
//
// API: GET /v1.0/{tenant}/agent/{machineAgentId}
func (s *AgentsService) GetMany(ctx context.Context, ids []AgentID) ([]Agent, error) {
	out := make([]Agent, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.client.opts.concurrency)
	for i, id := range ids {
		g.Go(func() error {
			a, err := s.Get(gctx, id)
			if err != nil {
				return err
			}
			out[i] = *a
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// GetByHostServer returns the agent on the Cloud Server with the given
// UUID. It makes a call (one per region when several are in use).
//
// API: GET /v1.0/{tenant}/agent/server/{hostServerId}
func (s *AgentsService) GetByHostServer(ctx context.Context, hostServerID string) (*Agent, error) {
	op := fmt.Sprintf("get agent of server %.60q", hostServerID)
	if strings.TrimSpace(hostServerID) == "" {
		return nil, &ValidationError{Op: op, Fields: map[string]string{"hostServerId": "is required"}}
	}
	path := "agent/server/" + url.PathEscape(hostServerID)
	a, ep, err := getAny[Agent](ctx, s.client, op, path, func(int) {})
	if err != nil {
		return nil, err
	}
	s.post(a, ep)
	return a, nil
}

// Enable enables a disabled agent. It makes a call.
//
// API: POST /v1.0/{tenant}/agent/enable
func (s *AgentsService) Enable(ctx context.Context, id AgentID) error {
	return s.setEnabled(ctx, id, true)
}

// Disable disables an agent: it keeps its data but runs no backups. It
// makes a call.
//
// API: POST /v1.0/{tenant}/agent/enable
func (s *AgentsService) Disable(ctx context.Context, id AgentID) error {
	return s.setEnabled(ctx, id, false)
}

func (s *AgentsService) setEnabled(ctx context.Context, id AgentID, enable bool) error {
	op := fmt.Sprintf("disable agent %d", id)
	if enable {
		op = fmt.Sprintf("enable agent %d", id)
	}
	return s.client.doOn(ctx, kindAgent, int64(id), request{op: op, method: "POST", path: "agent/enable",
		body: map[string]any{"MachineAgentId": id, "Enable": enable}})
}

// Encrypt turns on vault encryption with a passphrase already encrypted
// for the agent's public key (see EncryptPassphrase). It is irreversible
// and asynchronous: IsEncrypted turns true once the agent confirms. It
// returns the request id. It makes a call.
//
// API: POST /v1.0/{tenant}/agent/encrypt
func (s *AgentsService) Encrypt(ctx context.Context, id AgentID, encryptedPasswordHex string) (string, error) {
	op := fmt.Sprintf("encrypt agent %d", id)
	if !isHex(encryptedPasswordHex) {
		return "", &ValidationError{Op: op, Fields: map[string]string{"EncryptedPasswordHex": "must be a non-empty hex string"}}
	}
	var raw []byte
	err := s.client.doOn(ctx, kindAgent, int64(id), request{op: op, method: "POST", path: "agent/encrypt",
		body: map[string]any{"MachineAgentId": id, "EncryptedPasswordHex": encryptedPasswordHex}, raw: &raw})
	return scalarBody(raw), err
}

// ChangeEncryptionPassword replaces the vault passphrase; both values are
// encrypted for the agent's public key. It returns the request id. It
// makes a call. Admin role only.
//
// API: POST /v1.0/{tenant}/agent/changeencryption
func (s *AgentsService) ChangeEncryptionPassword(ctx context.Context, id AgentID, oldEncryptedHex, newEncryptedHex string) (string, error) {
	op := fmt.Sprintf("change encryption password of agent %d", id)
	v := &ValidationError{Op: op}
	if !isHex(oldEncryptedHex) {
		v.add("OldEncryptedPasswordHex", "must be a non-empty hex string")
	}
	if !isHex(newEncryptedHex) {
		v.add("NewEncryptedPasswordHex", "must be a non-empty hex string")
	}
	if err := v.orNil(); err != nil {
		return "", err
	}
	var raw []byte
	err := s.client.doOn(ctx, kindAgent, int64(id), request{op: op, method: "POST", path: "agent/changeencryption", body: map[string]any{
		"MachineAgentId": id, "OldEncryptedPasswordHex": oldEncryptedHex, "NewEncryptedPasswordHex": newEncryptedHex,
	}, raw: &raw})
	return scalarBody(raw), err
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// EncryptPassphrase encrypts a vault passphrase for an agent's public key
// (RSA PKCS#1 v1.5) and hex-encodes it, as Encrypt and restores of
// encrypted vaults expect. It makes no call.
func EncryptPassphrase(key *PublicKey, passphrase string) (string, error) {
	if key == nil {
		return "", errors.New("rcbu: encrypt passphrase: no public key")
	}
	n, ok := new(big.Int).SetString(key.ModulusHex, 16)
	if !ok || n.Sign() <= 0 {
		return "", errors.New("rcbu: encrypt passphrase: invalid modulus")
	}
	e, err := strconv.ParseInt(string(key.ExponentHex), 16, 32)
	if err != nil || e < 3 {
		return "", errors.New("rcbu: encrypt passphrase: invalid exponent")
	}
	// The agent decrypts with PKCS#1 v1.5 (contract §3.3): OAEP is not an
	// option here.
	//lint:ignore SA1019 the wire protocol fixes PKCS#1 v1.5
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &rsa.PublicKey{N: n, E: int(e)}, []byte(passphrase))
	if err != nil {
		return "", fmt.Errorf("rcbu: encrypt passphrase: %w", err)
	}
	return hex.EncodeToString(ct), nil
}

// Delete removes an agent and all its backup data, permanently. It makes
// a call. Admin role only.
//
// API: POST /v1.0/{tenant}/agent/delete
func (s *AgentsService) Delete(ctx context.Context, id AgentID) error {
	return s.client.doOn(ctx, kindAgent, int64(id), request{op: fmt.Sprintf("delete agent %d", id), method: "POST", path: "agent/delete",
		body: map[string]any{"MachineAgentId": id}})
}

// MigrateVault moves src's vault to dst (same account, neither encrypted,
// dst without configurations). It makes a call. Admin role only.
//
// API: PUT /v1.0/{tenant}/agent/migratevault
func (s *AgentsService) MigrateVault(ctx context.Context, src, dst AgentID) error {
	op := fmt.Sprintf("migrate vault of agent %d to %d", src, dst)
	if src == dst {
		return &ValidationError{Op: op, Fields: map[string]string{"DestinationMachineAgentId": "must differ from the source agent"}}
	}
	return s.client.doOn(ctx, kindAgent, int64(src), request{op: op, method: "PUT", path: "agent/migratevault",
		body: map[string]any{"SourceMachineAgentId": src, "DestinationMachineAgentId": dst}})
}

// BehaviorRequest changes where an agent stores backups and how it
// reaches Cloud Files.
type BehaviorRequest struct {
	BackupDatacenter string `json:"BackupDataCenter,omitempty"` // "" keeps the current one
	UseServiceNet    bool   `json:"UseServiceNet"`
}

// UpdateBehavior changes an agent's backup datacenter and ServiceNet use
// and returns the updated agent. It makes a call.
//
// API: POST /v1.0/{tenant}/agent/{machineAgentId}
func (s *AgentsService) UpdateBehavior(ctx context.Context, id AgentID, r BehaviorRequest) (*Agent, error) {
	op := fmt.Sprintf("update behavior of agent %d", id)
	ep, err := s.client.locate(ctx, op, kindAgent, int64(id))
	if err != nil {
		return nil, err
	}
	a := new(Agent)
	if err := s.client.do(ctx, ep, request{op: op, method: "POST", path: fmt.Sprintf("agent/%d", id), body: r, out: a}); err != nil {
		return nil, err
	}
	if a.ID == 0 { // tolerate an empty 200: read the agent back
		return s.Get(ctx, id)
	}
	a.Region = ep.Region
	return a, nil
}

// SetLogLevel sets an agent's log level. It makes a call.
//
// API: PUT /v1.0/{tenant}/agent/logging
func (s *AgentsService) SetLogLevel(ctx context.Context, id AgentID, level LogLevel) error {
	op := fmt.Sprintf("set log level of agent %d", id)
	if level < LogFatal || level > LogAll {
		return &ValidationError{Op: op, Fields: map[string]string{"LoggingLevelId": "must be between 1 (Fatal) and 7 (All)"}}
	}
	return s.client.doOn(ctx, kindAgent, int64(id), request{op: op, method: "PUT", path: "agent/logging",
		body: map[string]any{"MachineAgentId": id, "LoggingLevelId": int(level)}})
}

// GetLogLevel returns an agent's log level. It makes a call.
//
// API: GET /v1.0/{tenant}/agent/logging/{machineAgentId}
func (s *AgentsService) GetLogLevel(ctx context.Context, id AgentID) (LogLevel, error) {
	op := fmt.Sprintf("get log level of agent %d", id)
	var raw []byte
	if err := s.client.doOn(ctx, kindAgent, int64(id), request{op: op, method: "GET", path: fmt.Sprintf("agent/logging/%d", id), raw: &raw}); err != nil {
		return 0, err
	}
	l, err := ParseLogLevel(scalarBody(raw))
	if err != nil {
		return 0, fmt.Errorf("rcbu: %s: %w", op, err)
	}
	return l, nil
}

// Wake asks every agent of the account to connect; wait 10–20 s before
// starting jobs on agents that were asleep. It makes one call per region.
//
// API: POST /v1.0/{tenant}/user/wakeupagents
func (s *AgentsService) Wake(ctx context.Context) error {
	return s.client.doAll(ctx, request{op: "wake agents", method: "POST", path: "user/wakeupagents"})
}

// RequestLog asks an agent to upload its log; it returns the request id.
// It makes a call.
//
// API: POST /v1.0/{tenant}/agent/requestlog/{machineAgentId}
func (s *AgentsService) RequestLog(ctx context.Context, id AgentID) (string, error) {
	var raw []byte
	err := s.client.doOn(ctx, kindAgent, int64(id), request{op: fmt.Sprintf("request log of agent %d", id), method: "POST",
		path: fmt.Sprintf("agent/requestlog/%d", id), raw: &raw})
	return scalarBody(raw), err
}

// LogFile is an uploaded agent log.
type LogFile struct {
	DisplayName  string `json:"DisplayName"`
	CurrentState string `json:"CurrentState"`
	FilePath     string `json:"FilePath"` // URL
}

// ListLogFiles lists an agent's uploaded logs. It makes a call.
//
// API: GET /v1.0/{tenant}/agent/logfiles/{machineAgentId}
func (s *AgentsService) ListLogFiles(ctx context.Context, id AgentID) ([]LogFile, error) {
	op := fmt.Sprintf("list log files of agent %d", id)
	out := []LogFile{}
	if err := s.client.doOn(ctx, kindAgent, int64(id), request{op: op, method: "GET", path: fmt.Sprintf("agent/logfiles/%d", id), out: &out}); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentEvent is a recent message relayed from an agent (e.g. "Heartbeat").
type AgentEvent struct {
	Event   string  `json:"-"`
	AgentID AgentID `json:"-"`
	Age     int     `json:"-"` // seconds since the event
}

// UnmarshalJSON decodes {"data": {"Event", "MachineAgentId"}, "age"}.
func (e *AgentEvent) UnmarshalJSON(b []byte) error {
	var w struct {
		Data struct {
			Event          string  `json:"Event"`
			MachineAgentID AgentID `json:"MachineAgentId"`
		} `json:"data"`
		Age flexInt `json:"age"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = AgentEvent{Event: w.Data.Event, AgentID: w.Data.MachineAgentID, Age: int(w.Age)}
	return nil
}

// ListEvents lists an agent's recent events; an agent with a heartbeat younger
// than about 26 s is awake. It makes a call.
//
// API: GET /v1.0/{tenant}/agent/events/{machineAgentId}
func (s *AgentsService) ListEvents(ctx context.Context, id AgentID) ([]AgentEvent, error) {
	op := fmt.Sprintf("list events of agent %d", id)
	var raw []byte
	if err := s.client.doOn(ctx, kindAgent, int64(id), request{op: op, method: "GET", path: fmt.Sprintf("agent/events/%d", id), raw: &raw}); err != nil {
		return nil, err
	}
	out := []AgentEvent{}
	var err error
	t := bytes.TrimSpace(raw)
	switch {
	case len(t) == 0:
	case t[0] == '[':
		err = json.Unmarshal(t, &out)
	default: // {"events": [...]}
		var w struct {
			Events []AgentEvent `json:"events"`
		}
		err = json.Unmarshal(t, &w)
		if w.Events != nil {
			out = w.Events
		}
	}
	if err != nil {
		return nil, fmt.Errorf("rcbu: %s: decode response: %w", op, err)
	}
	return out, nil
}

// AgentDocument is the configuration document an agent downloads
// (volumes, preferences, its backup configurations). Only a few fields are
// typed; Raw holds the whole document.
type AgentDocument struct {
	Volumes              []AgentVolume `json:"Volumes"`
	BackupConfigurations []struct {
		ID        ConfigurationID `json:"Id"`
		Name      string          `json:"Name"`
		IsEnabled bool            `json:"IsEnabled"`
	} `json:"BackupConfigurations"`
	Raw json.RawMessage `json:"-"`
}

// AgentVolume is the vault an agent writes to, as its configuration
// document describes it (§3.13).
type AgentVolume struct {
	URI                string  `json:"Uri"` // the vault's container URL
	FailoverURI        string  `json:"FailoverUri"`
	BackupVaultID      VaultID `json:"BackupVaultId"`
	DataServicesDomain string  `json:"DataServicesDomain"`
}

// GetDocument returns the agent's configuration document. It makes a call.
//
// API: GET /v1.0/{tenant}/agent/configuration/{machineAgentId}
func (s *AgentsService) GetDocument(ctx context.Context, id AgentID) (*AgentDocument, error) {
	op := fmt.Sprintf("get configuration document of agent %d", id)
	var raw []byte
	d := new(AgentDocument)
	if err := s.client.doOn(ctx, kindAgent, int64(id), request{op: op, method: "GET", path: fmt.Sprintf("agent/configuration/%d", id), out: d, need: true, raw: &raw}); err != nil {
		return nil, err
	}
	d.Raw = raw
	return d, nil
}

// Busy reports whether the agent has a backup, restore or cleanup queued
// or running (from its activity). It makes a call.
//
// API: GET /v1.0/{tenant}/system/activity/{agentId}
func (s *AgentsService) Busy(ctx context.Context, id AgentID) (bool, error) {
	acts, err := (*ActivityService)(s).ListForAgent(ctx, id)
	if err != nil {
		return false, err
	}
	for i := range acts {
		if acts[i].Busy() {
			return true, nil
		}
	}
	return false, nil
}

// WaitOnline polls an agent every interval (5 s when ≤ 0) until its live
// status is Online or ctx ends — typically after Wake, which takes the
// service 10–20 s. It makes calls.
//
// API: GET /v1.0/{tenant}/agent/{machineAgentId}
func (s *AgentsService) WaitOnline(ctx context.Context, id AgentID, interval time.Duration) (*Agent, error) {
	return waitDone(ctx, s.client, interval, func(ctx context.Context) (*Agent, error) { return s.Get(ctx, id) },
		func(a *Agent) bool { return a.Online() })
}
