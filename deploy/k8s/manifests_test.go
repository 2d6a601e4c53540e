package k8s_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/idsync/idsync/deploy/internal/deploytest"
	"github.com/idsync/idsync/pkg/rules"
)

// objects is every object of a set of manifests, decoded strictly into its
// Kubernetes API type.
type objects struct {
	deployments map[string]*appsv1.Deployment
	jobs        map[string]*batchv1.Job
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	pdbs        map[string]*policyv1.PodDisruptionBudget
	hpas        map[string]*autoscalingv2.HorizontalPodAutoscaler
	netpols     map[string]*networkingv1.NetworkPolicy
	namespaces  map[string]*corev1.Namespace
}

func newObjects() *objects {
	return &objects{
		deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{},
		services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{},
		secrets: map[string]*corev1.Secret{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, netpols: map[string]*networkingv1.NetworkPolicy{},
		namespaces: map[string]*corev1.Namespace{},
	}
}

// decode adds the documents of one file; unknown fields and kinds fail.
func (o *objects) decode(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s doc %d: %v", path, i, err)
		}
		if tm.Kind == "" {
			continue // comments only
		}
		var obj interface{ GetName() string }
		switch tm.APIVersion + "/" + tm.Kind {
		case "apps/v1/Deployment":
			obj = &appsv1.Deployment{}
		case "batch/v1/Job":
			obj = &batchv1.Job{}
		case "v1/Service":
			obj = &corev1.Service{}
		case "v1/ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1/Secret":
			obj = &corev1.Secret{}
		case "v1/Namespace":
			obj = &corev1.Namespace{}
		case "policy/v1/PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		case "autoscaling/v2/HorizontalPodAutoscaler":
			obj = &autoscalingv2.HorizontalPodAutoscaler{}
		case "networking.k8s.io/v1/NetworkPolicy":
			obj = &networkingv1.NetworkPolicy{}
		default:
			t.Fatalf("%s doc %d: unexpected %s %s", path, i, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s doc %d (%s): %v", path, i, tm.Kind, err)
		}
		name := obj.GetName()
		var dup bool
		switch v := obj.(type) {
		case *appsv1.Deployment:
			_, dup = o.deployments[name]
			o.deployments[name] = v
		case *batchv1.Job:
			_, dup = o.jobs[name]
			o.jobs[name] = v
		case *corev1.Service:
			_, dup = o.services[name]
			o.services[name] = v
		case *corev1.ConfigMap:
			_, dup = o.configMaps[name]
			o.configMaps[name] = v
		case *corev1.Secret:
			_, dup = o.secrets[name]
			o.secrets[name] = v
		case *corev1.Namespace:
			o.namespaces[name] = v
		case *policyv1.PodDisruptionBudget:
			_, dup = o.pdbs[name]
			o.pdbs[name] = v
		case *autoscalingv2.HorizontalPodAutoscaler:
			_, dup = o.hpas[name]
			o.hpas[name] = v
		case *networkingv1.NetworkPolicy:
			_, dup = o.netpols[name]
			o.netpols[name] = v
		}
		if dup {
			t.Errorf("%s: %s %s defined twice", path, tm.Kind, name)
		}
	}
}

type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels"`
	Resources []string `json:"resources"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// load reads the kustomization and its resources, and the Secrets of
// secrets.example.yaml (documented, not deployed).
func load(t *testing.T) (dir string, k kustomization, o, documented *objects) {
	t.Helper()
	dir = "."
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	o = newObjects()
	for _, r := range k.Resources {
		o.decode(t, filepath.Join(dir, r))
	}
	documented = newObjects()
	documented.decode(t, filepath.Join(dir, "secrets.example.yaml"))
	return dir, k, o, documented
}

// pod is a workload's pod template, with what the checks need.
type pod struct {
	kind, name string
	program    deploytest.Service
	template   corev1.PodTemplateSpec
}

func workloads(t *testing.T, o *objects) []pod {
	t.Helper()
	var out []pod
	for name, d := range o.deployments {
		svc, ok := deploytest.Lookup(name)
		if !ok {
			t.Errorf("Deployment %s is no idsync service", name)
			continue
		}
		out = append(out, pod{"Deployment", name, svc, d.Spec.Template})
	}
	for name, j := range o.jobs {
		svc, _ := deploytest.Lookup(deploytest.Provision)
		out = append(out, pod{"Job", name, svc, j.Spec.Template})
	}
	slices.SortFunc(out, func(a, b pod) int { return strings.Compare(a.name, b.name) })
	return out
}

func TestManifests(t *testing.T) {
	t.Parallel()
	dir, k, o, documented := load(t)
	root := deploytest.RepoRoot(t)
	pods := workloads(t, o)

	t.Run("kustomization", func(t *testing.T) {
		if k.Kind != "Kustomization" || k.Namespace != "idsync" {
			t.Errorf("kind %q namespace %q", k.Kind, k.Namespace)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		notResources := []string{"kustomization.yaml", "nats-values.yaml", "secrets.example.yaml"}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".yaml") && !slices.Contains(notResources, e.Name()) && !slices.Contains(k.Resources, e.Name()) {
				t.Errorf("%s is not listed in kustomization.yaml resources", e.Name())
			}
		}
		images := map[string]bool{}
		for _, im := range k.Images {
			images[im.Name] = true
		}
		for _, p := range pods {
			for _, c := range p.template.Spec.Containers {
				name, _, _ := strings.Cut(c.Image, ":")
				if !images[name] {
					t.Errorf("%s: image %s is not in kustomization.yaml images", p.name, name)
				}
			}
		}
	})

	t.Run("every service is deployed", func(t *testing.T) {
		for _, s := range deploytest.Services {
			if s.Name == deploytest.Provision {
				if len(o.jobs) != 1 {
					t.Errorf("jobs = %d, want the provisioning Job", len(o.jobs))
				}
				continue
			}
			d, ok := o.deployments[s.Name]
			if !ok {
				t.Errorf("no Deployment %s", s.Name)
				continue
			}
			if !deploytest.HasCmd(root, s.Name) {
				t.Errorf("%s: no services/%[1]s/cmd/%[1]s", s.Name)
			}
			if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, "idsync/"+s.Name+":") {
				t.Errorf("%s runs image %s", s.Name, img)
			}
		}
	})

	t.Run("selectors", func(t *testing.T) {
		for name, d := range o.deployments {
			podLabels := labels.Set(d.Spec.Template.Labels)
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil || sel.Empty() || !sel.Matches(podLabels) {
				t.Errorf("Deployment %s: selector %v does not match its pods %v", name, d.Spec.Selector, podLabels)
			}
			svc, ok := o.services[name]
			if !ok {
				t.Errorf("no Service %s", name)
			} else {
				if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
					t.Errorf("Service %s: selector %v does not match the pods %v", name, svc.Spec.Selector, podLabels)
				}
				for _, sp := range svc.Spec.Ports {
					if containerPort(d.Spec.Template.Spec.Containers[0], sp.TargetPort.String()) == 0 {
						t.Errorf("Service %s: targetPort %s is no container port", name, sp.TargetPort.String())
					}
				}
			}
			pdb, ok := o.pdbs[name]
			if !ok {
				t.Errorf("no PodDisruptionBudget %s", name)
			} else if s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || s.Empty() || !s.Matches(podLabels) {
				t.Errorf("PodDisruptionBudget %s: selector does not match the pods", name)
			}
			hpa, ok := o.hpas[name]
			if !ok {
				t.Errorf("no HorizontalPodAutoscaler %s", name)
			} else {
				ref := hpa.Spec.ScaleTargetRef
				if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != name {
					t.Errorf("HPA %s scales %s %s %s", name, ref.APIVersion, ref.Kind, ref.Name)
				}
				if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
					t.Errorf("HPA %s: replicas %v..%d, want at least 2 for availability", name, hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
				}
				if d.Spec.Replicas != nil {
					t.Errorf("Deployment %s sets replicas, which its HPA owns", name)
				}
				for _, m := range hpa.Spec.Metrics {
					if m.Type == autoscalingv2.ExternalMetricSourceType && m.External.Metric.Selector.MatchLabels["consumer"] == "" {
						t.Errorf("HPA %s: external metric without a consumer", name)
					}
				}
			}
			if !selectedBy(o.netpols, podLabels, false) {
				t.Errorf("Deployment %s: no NetworkPolicy selects its pods", name)
			}
		}
		for name, p := range o.pdbs {
			if _, ok := o.deployments[name]; !ok {
				t.Errorf("PodDisruptionBudget %s has no Deployment", name)
			}
			if p.Spec.MinAvailable != nil && p.Spec.MinAvailable.IntValue() >= 2 {
				t.Errorf("PodDisruptionBudget %s would block node drains at minimum scale", name)
			}
		}
	})

	t.Run("network policies", func(t *testing.T) {
		deny, ok := o.netpols["default-deny"]
		if !ok || len(deny.Spec.PodSelector.MatchLabels) != 0 || len(deny.Spec.Ingress) != 0 || len(deny.Spec.Egress) != 0 ||
			!slices.Contains(deny.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(deny.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			t.Errorf("no default-deny policy for ingress and egress of every pod")
		}
		for _, p := range pods {
			l := labels.Set(p.template.Labels)
			if !egressTo(o.netpols, l, 53) {
				t.Errorf("%s may not resolve names (no egress to port 53)", p.name)
			}
			if !egressTo(o.netpols, l, 4222) {
				t.Errorf("%s may not reach NATS on 4222", p.name)
			}
			if p.template.Labels["idsync.io/nats-client"] != "true" {
				t.Errorf("%s lacks the label idsync.io/nats-client the NATS policy admits", p.name)
			}
		}
		if !egressTo(o.netpols, labels.Set(o.deployments["eventlog"].Spec.Template.Labels), 5432) {
			t.Errorf("eventlog may not reach PostgreSQL")
		}
		for _, name := range []string{"okta-sync", "gitlab-sync", "github-sync", "console-sync"} {
			if !egressTo(o.netpols, labels.Set(o.deployments[name].Spec.Template.Labels), 443) {
				t.Errorf("%s may not reach its provider on 443", name)
			}
		}
		if np := o.netpols["gateway"]; np == nil || !ingressFromNamespace(np, "ingress-nginx") {
			t.Errorf("the gateway admits no traffic from the ingress controller")
		}
	})

	t.Run("probes, resources and security", func(t *testing.T) {
		for _, p := range pods {
			spec := p.template.Spec
			if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
				t.Errorf("%s: pod may run as root", p.name)
			}
			if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
				t.Errorf("%s mounts a service account token it does not need", p.name)
			}
			for _, c := range spec.Containers {
				sc := c.SecurityContext
				if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
					sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
					sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
					t.Errorf("%s/%s: want a read-only root, no privilege escalation and ALL capabilities dropped", p.name, c.Name)
				}
				if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
					t.Errorf("%s/%s: requests and a memory limit are required", p.name, c.Name)
				}
				if p.kind != "Deployment" {
					continue
				}
				port := containerPort(c, "http")
				if port != 8080 {
					t.Errorf("%s: container port http = %d, want 8080 (the image's EXPOSE and IDSYNC_HTTP_ADDR)", p.name, port)
				}
				for probe, want := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
					if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want || containerPort(c, probe.HTTPGet.Port.String()) != port {
						t.Errorf("%s: want a probe of %s on the http port", p.name, want)
					}
				}
			}
		}
		addr := o.configMaps["idsync-common"].Data["IDSYNC_HTTP_ADDR"]
		if !strings.HasSuffix(addr, ":8080") {
			t.Errorf("IDSYNC_HTTP_ADDR = %q, want :8080", addr)
		}
	})

	t.Run("references", func(t *testing.T) {
		for _, p := range pods {
			for _, c := range p.template.Spec.Containers {
				for _, e := range c.Env {
					if e.ValueFrom == nil {
						continue
					}
					if r := e.ValueFrom.SecretKeyRef; r != nil {
						s, ok := documented.secrets[r.Name]
						if _, inRepo := o.secrets[r.Name]; inRepo {
							t.Errorf("%s: Secret %s is defined in the manifests; secrets are referenced only", p.name, r.Name)
						}
						if !ok {
							t.Errorf("%s: %s refers to Secret %s, not in secrets.example.yaml", p.name, e.Name, r.Name)
						} else if _, ok := s.StringData[r.Key]; !ok {
							t.Errorf("%s: %s refers to key %s of Secret %s, not in secrets.example.yaml", p.name, e.Name, r.Key, r.Name)
						}
					}
					if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
						if _, ok := o.configMaps[r.Name].Data[r.Key]; o.configMaps[r.Name] == nil || !ok {
							t.Errorf("%s: %s refers to ConfigMap %s key %s, which is not defined", p.name, e.Name, r.Name, r.Key)
						}
					}
				}
				for _, ef := range c.EnvFrom {
					if ef.ConfigMapRef == nil || o.configMaps[ef.ConfigMapRef.Name] == nil {
						t.Errorf("%s: envFrom %v is no defined ConfigMap", p.name, ef)
					}
				}
			}
			for _, v := range p.template.Spec.Volumes {
				if v.ConfigMap != nil && o.configMaps[v.ConfigMap.Name] == nil {
					t.Errorf("%s: volume %s refers to undefined ConfigMap %s", p.name, v.Name, v.ConfigMap.Name)
				}
			}
		}
		for _, s := range documented.secrets {
			for k, v := range s.StringData {
				if v != "" {
					t.Errorf("secrets.example.yaml: %s/%s holds a value", s.Name, k)
				}
			}
		}
	})

	t.Run("environment variables are read by the service", func(t *testing.T) {
		rulesDoc := []byte(o.configMaps["idsync-rules"].Data["rules.yaml"])
		for _, p := range pods {
			known, err := p.program.Env(rulesDoc)
			if err != nil {
				t.Fatal(err)
			}
			for name, source := range podEnv(p, o) {
				if !known[name] {
					t.Errorf("%s (%s) is given %s (%s), which it does not read", p.name, p.program.Name, name, source)
				}
			}
			env := podEnv(p, o)
			if p.program.LoadsRules && env["IDSYNC_RULES_FILE"] == "" {
				t.Errorf("%s does not load the rules file", p.name)
			}
			for _, need := range []string{"IDSYNC_NATS_URL", "IDSYNC_NAMESPACE", "IDSYNC_STREAM_REPLICAS", "IDSYNC_NATS_USER", "IDSYNC_NATS_PASSWORD"} {
				if env[need] == "" {
					t.Errorf("%s is not given %s", p.name, need)
				}
			}
			if p.program.Name != deploytest.Provision && env["IDSYNC_HTTP_ADDR"] == "" {
				t.Errorf("%s is not given IDSYNC_HTTP_ADDR (the default listens on 127.0.0.1 only)", p.name)
			}
			if p.program.Name != deploytest.Provision && env["IDSYNC_NATS_MANAGE_TOPOLOGY"] == "" {
				t.Errorf("%s: IDSYNC_NATS_MANAGE_TOPOLOGY not set (its NATS user may not create streams)", p.name)
			}
		}
	})

	t.Run("rules file", func(t *testing.T) {
		doc := o.configMaps["idsync-rules"].Data["rules.yaml"]
		env := o.configMaps["idsync-rules-env"].Data
		getenv := func(k string) string { return env[k] }
		if _, err := rules.Parse("idsync-rules", []byte(doc), getenv, false); err != nil {
			t.Errorf("the rules ConfigMap does not validate:\n%v", err)
		}
		for _, p := range pods {
			for _, m := range p.template.Spec.Containers[0].VolumeMounts {
				if m.Name == "rules" && m.MountPath+"/rules.yaml" != "/etc/idsync/rules/rules.yaml" {
					t.Errorf("%s mounts the rules at %s", p.name, m.MountPath)
				}
			}
		}
	})

	t.Run("NATS", func(t *testing.T) {
		accounts, err := os.ReadFile(filepath.Join(root, "deploy", "nats", "accounts.conf"))
		if err != nil {
			t.Fatal(err)
		}
		users := deploytest.NATSUsers(string(accounts))
		var values struct {
			Config struct {
				Cluster struct {
					Enabled  bool `json:"enabled"`
					Replicas int  `json:"replicas"`
				} `json:"cluster"`
				JetStream struct {
					Enabled   bool `json:"enabled"`
					FileStore struct {
						Enabled bool `json:"enabled"`
					} `json:"fileStore"`
				} `json:"jetstream"`
			} `json:"config"`
			Container struct {
				Env map[string]corev1.EnvVar `json:"env"`
			} `json:"container"`
		}
		data, err := os.ReadFile(filepath.Join(dir, "nats-values.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &values); err != nil {
			t.Fatal(err)
		}
		replicas := o.configMaps["idsync-topology"].Data["IDSYNC_STREAM_REPLICAS"]
		if !values.Config.Cluster.Enabled || fmt.Sprint(values.Config.Cluster.Replicas) != replicas || replicas != "3" {
			t.Errorf("NATS cluster of %d servers, streams with %s replicas; want 3 and 3", values.Config.Cluster.Replicas, replicas)
		}
		if !values.Config.JetStream.Enabled || !values.Config.JetStream.FileStore.Enabled {
			t.Errorf("JetStream with file storage is not enabled")
		}
		for user, v := range users {
			e, ok := values.Container.Env[v]
			if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Errorf("nats-values.yaml: %s (user %s's password) is not taken from a Secret", v, user)
				continue
			}
			r := e.ValueFrom.SecretKeyRef
			if r.Name != "idsync-nats-users" || r.Key != user {
				t.Errorf("nats-values.yaml: %s from %s/%s, want idsync-nats-users/%s", v, r.Name, r.Key, user)
			}
			if _, ok := documented.secrets[r.Name].StringData[r.Key]; !ok {
				t.Errorf("secrets.example.yaml lacks %s/%s", r.Name, r.Key)
			}
		}
		if !strings.Contains(o.configMaps["idsync-topology"].Data["IDSYNC_NATS_URL"], "nats://nats:4222") {
			t.Errorf("IDSYNC_NATS_URL is not the NATS release's client Service")
		}
		for _, p := range pods {
			env := podEnv(p, o)
			user := env["IDSYNC_NATS_USER"]
			if _, ok := users[user]; !ok {
				t.Errorf("%s: NATS user %q is not in accounts.conf", p.name, user)
			}
			for _, e := range p.template.Spec.Containers[0].Env {
				if e.Name == "IDSYNC_NATS_PASSWORD" && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Key != user) {
					t.Errorf("%s: IDSYNC_NATS_PASSWORD is not user %s's password", p.name, user)
				}
			}
		}
	})
}

// podEnv is every variable a pod's container gets (name → its source; for
// values, the value).
func podEnv(p pod, o *objects) map[string]string {
	out := map[string]string{}
	c := p.template.Spec.Containers[0]
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil && o.configMaps[ef.ConfigMapRef.Name] != nil {
			for k, v := range o.configMaps[ef.ConfigMapRef.Name].Data {
				out[k] = v
				if v == "" {
					out[k] = "ConfigMap " + ef.ConfigMapRef.Name
				}
			}
		}
	}
	for _, e := range c.Env {
		out[e.Name] = e.Value
		if e.ValueFrom != nil {
			out[e.Name] = "from a reference"
		}
	}
	return out
}

func containerPort(c corev1.Container, port string) int32 {
	for _, p := range c.Ports {
		if p.Name == port || fmt.Sprint(p.ContainerPort) == port {
			return p.ContainerPort
		}
	}
	return 0
}

func selectedBy(nps map[string]*networkingv1.NetworkPolicy, pod labels.Set, allowEmpty bool) bool {
	for _, np := range nps {
		s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err == nil && (allowEmpty || !s.Empty()) && s.Matches(pod) {
			return true
		}
	}
	return false
}

// egressTo reports whether some policy selecting the pod allows egress on port.
func egressTo(nps map[string]*networkingv1.NetworkPolicy, pod labels.Set, port int) bool {
	for _, np := range nps {
		s, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !s.Matches(pod) {
			continue
		}
		for _, r := range np.Spec.Egress {
			for _, p := range r.Ports {
				if p.Port != nil && p.Port.IntValue() == port {
					return true
				}
			}
		}
	}
	return false
}

func ingressFromNamespace(np *networkingv1.NetworkPolicy, ns string) bool {
	for _, r := range np.Spec.Ingress {
		for _, f := range r.From {
			if f.NamespaceSelector != nil && f.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == ns {
				return true
			}
		}
	}
	return false
}
