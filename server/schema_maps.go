package server

// Schemas of the answers that handlers build as maps (no Go type to reflect on), kept beside one
// another so that a change to one of those maps has one place to be described.

var (
	complianceSchema = props(map[string]any{
		"institution": str, "name": str, "on": str, "compliant": boolean, "issues": anything,
		"children": integer, "staff": integer, "qualified_share": map[string]any{"type": "number"},
		"assignments": arr(object([]string{"assignment_id", "roster_id", "name", "post", "decision"}, map[string]any{
			"assignment_id": integer, "roster_id": integer, "name": str, "id_number": str, "post": str, "class_id": integer,
			"not_permitted": boolean, "decision": schemaOf[decisionJSON](),
		})),
		"classes": arr(object([]string{"id", "name", "type", "children"}, map[string]any{
			"id": integer, "name": str, "type": str, "children": integer, "max_children": integer, "children_per_caregiver": map[string]any{"type": "number"},
			"qualified_caregivers": integer, "needed_caregivers": integer, "over_size": boolean, "under_staffed": boolean,
		})),
		"missing_posts": arr(str), "expiring": arr(props(map[string]any{"roster_id": integer, "name": str, "what": str, "on": str})),
		"not_permitted_roster_ids": arr(integer), "kind": str, "over_capacity": boolean, "capacity": integer,
		"certificates_not_valid": anything,
	})

	classTypesSchema = props(map[string]any{"class_types": arr(props(map[string]any{
		"code": str, "name": str, "name_en": str, "min_months": integer, "max_months": integer, "max_children": integer,
		"children_per_caregiver": map[string]any{"type": "number"},
	}))})

	roundSchema = props(map[string]any{
		"id": integer, "region_code": str, "name": str, "seed": str, "count": integer, "per_inspection": integer,
		"risk_weighted": boolean, "input_digest": str, "replay_matches": boolean,
		"drawn": nullable(arr(props(map[string]any{"organisation_id": integer, "inspectors": nullable(arr(integer))}))),
	})

	scanCertSchema = object([]string{"number", "occupation", "level", "status", "verified", "issued_here"}, map[string]any{
		"number": str, "occupation": str, "level": integer, "status": str, "verified": boolean, "issued_here": boolean,
		"status_reason": str, "status_changed_at": dateTime, "expires_on": str,
	})

	scanSchema = object([]string{"id", "client_id", "code", "known", "verified", "on_roster", "roster_id", "name", "not_permitted", "decisions", "scanned_at", "offline"}, map[string]any{
		"id": integer, "client_id": str, "code": str, "known": boolean, "verified": boolean, "on_roster": boolean,
		"roster_id": integer, "name": str, "not_permitted": boolean, "decisions": nullable(arr(schemaOf[decisionJSON]())),
		"scanned_at": dateTime, "offline": boolean, "certificate": scanCertSchema,
	})

	inspectionSchema = props(map[string]any{
		"id": integer, "round": str, "organisation_id": integer, "status": str, "passed": nullable(boolean),
		"scans":      arr(scanSchema),
		"findings":   arr(props(map[string]any{"id": integer, "severity": str, "note": str, "photos": arr(integer)})),
		"inspectors": arr(props(map[string]any{"user_id": integer, "signed_at": nullable(dateTime)})),
		"summary":    anything,
		"absences":   arr(props(map[string]any{"roster_id": integer, "reason": str})),
	})
)
