package upstream

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// StaticToken is FHIRFACADE_FHIR_AUTH=bearer: one token from
// FHIRFACADE_FHIR_TOKEN.
type StaticToken string

// Token implements TokenSource.
func (s StaticToken) Token(context.Context) (string, error) { return string(s), nil }

// AzureTokens is FHIRFACADE_FHIR_AUTH=azure: Entra ID tokens for
// <FHIR_URL>/.default from azidentity's DefaultAzureCredential (managed
// identity, workload identity, environment or Azure CLI, in that order), so
// a managed identity needs no secret. Tokens are cached and refreshed five
// minutes before they expire.
type AzureTokens struct {
	cred  azcore.TokenCredential
	scope string
	mu    sync.Mutex
	tok   azcore.AccessToken
}

// NewAzureTokens builds the credential chain for the FHIR service at base.
func NewAzureTokens(base string) (*AzureTokens, error) {
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("FHIRFACADE_FHIR_AUTH=azure: %w", err)
	}
	// the FHIR service's audience is its URL without the /fhir-style path
	scope := strings.TrimRight(base, "/") + "/.default"
	return &AzureTokens{cred: cred, scope: scope}, nil
}

// Token implements TokenSource.
func (a *AzureTokens) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok.Token != "" && time.Until(a.tok.ExpiresOn) > 5*time.Minute {
		return a.tok.Token, nil
	}
	tok, err := a.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{a.scope}})
	if err != nil {
		return "", fmt.Errorf("azure token for %s: %w", a.scope, err)
	}
	a.tok = tok
	return tok.Token, nil
}
