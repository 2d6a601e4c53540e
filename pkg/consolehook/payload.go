package consolehook

// The Console payloads as the seed documents them; only what idsync maps.

type resource struct {
	CompanyID     string `json:"companyId"`
	ProjectID     string `json:"projectId"`
	EnvironmentID string `json:"environmentId"`
}

type userPayload struct {
	CompanyID string   `json:"companyId"`
	UserID    string   `json:"userId"`
	Email     string   `json:"email"`
	RoleID    string   `json:"roleId"`
	GroupID   string   `json:"groupId"`
	Resource  resource `json:"resource"`
}

type environment struct {
	EnvID        string `json:"envId"`
	Label        string `json:"label"`
	EnvPrefix    string `json:"envPrefix"`
	IsProduction bool   `json:"isProduction"`
	Cluster      struct {
		Namespace string `json:"namespace"`
		ClusterID string `json:"clusterId"`
	} `json:"cluster"`
}

type project struct {
	ID                   string        `json:"_id"`
	ProjectID            string        `json:"projectId"`
	TenantID             string        `json:"tenantId"`
	Name                 string        `json:"name"`
	Description          string        `json:"description"`
	RepositoryURL        string        `json:"repositoryUrl"`
	ConfigurationGitPath string        `json:"configurationGitPath"`
	DefaultBranch        string        `json:"defaultBranch"`
	Environments         []environment `json:"environments"`
}

type projectCreated struct {
	TenantID         string   `json:"tenantId"`
	ProjectID        string   `json:"projectId"`
	SourceTemplateID string   `json:"sourceTemplateId"`
	Project          *project `json:"project"`
}

type serviceCreated struct {
	TenantID      string `json:"tenantId"`
	ProjectID     string `json:"projectId"`
	RepositoryURL string `json:"repositoryURL"`
	ServiceName   string `json:"serviceName"`
	TemplateID    string `json:"templateId"`
}

type configurationSaved struct {
	TenantID          string `json:"tenantId"`
	ProjectID         string `json:"projectId"`
	RevisionName      string `json:"revisionName"`
	SavedChangesID    string `json:"savedChangesId"`
	PreviousChangesID string `json:"previousChangesId"`
	StartRef          struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"startRef"`
	Author struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"author"`
}

type tagEvent struct {
	TenantID           string   `json:"tenantId"`
	ProjectID          string   `json:"projectId"`
	TagName            string   `json:"tagName"`
	Ref                string   `json:"ref"`
	Message            string   `json:"message"`
	ReleaseDescription string   `json:"releaseDescription"`
	Project            *project `json:"project"`
}
