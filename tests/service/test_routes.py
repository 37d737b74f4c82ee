from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from nlp_engine.service import Settings, create_app
from tests.service.conftest import AUTH, TOKEN

HL7 = (
    "MSH|^~\\&|LAB|HOSP|EHR|HOSP|202401011200||ORU^R01|CTRL1|P|2.5\r"
    "PID|1||MRN1^^^HOSP||TEST^PATIENT\r"
    "OBR|1|PLC1|ACC1|88305^Surgical pathology\r"
    "OBX|1|TX|22637-3^Final diagnosis||Prostatic adenocarcinoma, Gleason 3+4=7.||||||F\r"
)
REPORT = {
    "resourceType": "DiagnosticReport",
    "id": "dr1",
    "status": "final",
    "code": {"text": "Surgical pathology"},
    "subject": {"reference": "Patient/p1"},
    "presentedForm": [
        {
            "contentType": "text/plain",
            "data": base64.b64encode(b"FINAL DIAGNOSIS: Invasive ductal carcinoma of the breast.").decode(),
        }
    ],
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(
        Settings(tokens=(TOKEN, "another-token"), workers=1, max_chars=5000, max_body_bytes=20000)
    )
    with TestClient(app) as test_client:
        yield test_client


def test_process_each_content_type(client: TestClient) -> None:
    text = client.post(
        "/v1/process",
        content="Denies chest pain. History of CHF.",
        headers={**AUTH, "content-type": "text/plain"},
    )
    assert text.status_code == 200
    assert [(c["code"], c["assertion"]["status"]) for c in text.json()["concepts"]] == [
        ("R07.9", "negated"),
        ("I50.9", "historical"),
    ]
    as_json = client.post("/v1/process", json={"id": "n7", "text": "COPD."}, headers=AUTH).json()
    assert (as_json["id"], as_json["concepts"][0]["code"]) == ("n7", "J44.9")
    fhir = client.post(
        "/v1/process", content=json.dumps(REPORT), headers={**AUTH, "content-type": "application/fhir+json"}
    )
    assert fhir.status_code == 200 and fhir.json()["pipeline"] == "pathology"
    assert fhir.json()["metadata"]["resource_id"] == "dr1"
    hl7 = client.post(
        "/v1/process", content=HL7, headers={**AUTH, "content-type": "x-application/hl7-v2+er7"}
    )
    assert hl7.status_code == 200 and hl7.json()["concepts"][0]["code"] == "C61"
    assert hl7.json()["metadata"]["patient_id"] == "MRN1"


def test_process_repairs_utf16_read_as_8_bit(client: TestClient) -> None:
    # a NUL before every character: UTF-16 text decoded one byte per character upstream
    broken = "\x00".join("History of CHF.") + "\x00"
    result = client.post("/v1/process", json={"id": "u1", "text": broken}, headers=AUTH).json()
    assert [(c["code"], c["text"]) for c in result["concepts"]] == [("I50.9", "CHF")]
    assert "UTF-16" in result["metadata"]["repaired"]
    plain = client.post("/v1/process", json={"text": "History of CHF."}, headers=AUTH).json()
    assert "repaired" not in plain["metadata"]


def test_fhir_bundle_output_validates(client: TestClient) -> None:
    from fhir.resources.R4B.bundle import Bundle

    response = client.post(
        "/v1/process",
        content=json.dumps(REPORT),
        headers={**AUTH, "content-type": "application/fhir+json", "accept": "application/fhir+json"},
    )
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(response.json())
    (condition,) = [e.resource for e in bundle.entry]
    assert condition.code.coding[0].code == "C50.919"
    assert condition.evidence[0].detail[0].reference == "DiagnosticReport/dr1"
    assert condition.subject.reference == "Patient/p1"


def test_code_ranks_affirmed_codes_first_with_evidence(client: TestClient) -> None:
    response = client.post(
        "/v1/code", json={"text": "No pneumonia. Possible CHF. COPD exacerbation. COPD."}, headers=AUTH
    )
    codes = response.json()["codes"]
    assert [(c["code"], c["status"]) for c in codes] == [
        ("J44.1", "present"),
        ("J44.9", "present"),
        ("I50.9", "uncertain"),
        ("J18.9", "negated"),
    ]
    first = codes[0]
    assert first["evidence"] and all(
        {"text", "start", "end", "section", "status"} <= set(e) for e in first["evidence"]
    )
    assert codes[-1]["status"] == "negated"


PATHOLOGY = (
    "FINAL DIAGNOSIS: Prostate, radical prostatectomy: acinar adenocarcinoma, Gleason 3+4=7 (Grade "
    "Group 2), pT2 N0. Margins negative. Seminal vesicles free of tumour."
)


def test_pathology_route_fields_with_evidence_and_fhir(client: TestClient) -> None:
    from fhir.resources.R4B.bundle import Bundle

    response = client.post("/v1/pathology", json={"id": "p1", "text": PATHOLOGY}, headers=AUTH)
    assert response.status_code == 200
    result = response.json()
    assert result["id"] == "p1" and result["status"] == "ok"
    gleason = result["fields"]["gleason"]
    assert gleason["value"] == "3+4=7" and PATHOLOGY[gleason["start"] : gleason["end"]] == gleason["text"]
    assert result["fields"]["pT"]["value"] == "pT2" and "coded" not in result  # no coder configured
    # the AJCC stage the report's own pT2 N0 and Gleason 7 give at the prostate (IIA at T2a or T2b, IIB
    # at T2c: the main group), with its sources
    assert result["derived_stage"]["value"] == "II" and result["derived_stage"]["from"] == {
        "pT": "pT2",
        "pN": "pN0",
        "histologic_type": "8550/3",
        "gleason": "3+4=7",
    }
    benign = client.post(
        "/v1/pathology",
        content="Gallbladder, cholecystectomy: chronic cholecystitis with cholelithiasis. Negative for malignancy.",
        headers={**AUTH, "content-type": "text/plain"},
    ).json()
    assert benign["status"] == "no_tumour" and benign["fields"]["histologic_type"] is None
    fhir = client.post(
        "/v1/pathology",
        json={"id": "p1", "text": PATHOLOGY},
        headers={**AUTH, "accept": "application/fhir+json"},
    )
    assert fhir.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(fhir.json())
    assert {e.resource.__resource_type__ for e in bundle.entry} >= {"DiagnosticReport", "Observation"}
    empty = client.post("/v1/pathology", json={"id": "e", "text": "   "}, headers=AUTH)
    assert empty.status_code == 422 and empty.headers["content-type"].startswith("application/problem+json")


def test_pathology_route_stages_a_thyroid_carcinoma_by_the_age_given(client: TestClient) -> None:
    text = "FINAL DIAGNOSIS: Thyroid, total thyroidectomy: papillary carcinoma. pT3 pN1a"
    unknown = client.post("/v1/pathology", json={"id": "t", "text": text}, headers=AUTH).json()
    assert unknown["derived_stage"] is None  # stage I under 45 years, III from 45: not guessed
    older = client.post("/v1/pathology", json={"id": "t", "text": text, "age_years": 61}, headers=AUTH)
    assert older.json()["derived_stage"]["value"] == "III"
    assert older.json()["derived_stage"]["from"]["age_years"] == 61
    younger = client.post("/v1/pathology", json={"id": "t", "text": text, "age_years": 30}, headers=AUTH)
    assert younger.json()["derived_stage"]["value"] == "I"
    bad = client.post("/v1/pathology", json={"id": "t", "text": text, "age_years": -4}, headers=AUTH)
    assert bad.status_code == 422 and "age_years" in bad.json()["detail"]
    hl7 = client.post(
        "/v1/pathology",
        content=(
            "MSH|^~\\&|LAB|HOSP|EHR|HOSP|202401011200||ORU^R01|CTRL9|P|2.5\r"
            "PID|1||MRN1^^^HOSP||TEST^PATIENT||19700612|F\r"
            "OBR|1|PLC1|ACC1|88305^Surgical pathology|||20230610\r"
            f"OBX|1|TX|22637-3^Final diagnosis||{text}||||||F\r"
        ),
        headers={**AUTH, "content-type": "application/hl7-v2"},
    )
    assert hl7.status_code == 200 and hl7.json()["derived_stage"]["value"] == "III"  # 52 at the report


def test_pathology_route_with_a_coder(tmp_path) -> None:
    from nlp_engine.pathology.coder import PathologyCoder
    from nlp_engine.pathology.model_io import save_pathology_coder
    from tests.pathology.test_coder import corpus

    texts, records = corpus(40, seed=7)
    coder = PathologyCoder(targets=("cancer_type", "icd_o_3_histology")).fit(texts, records)
    save_pathology_coder(coder, tmp_path / "model")
    app = create_app(Settings(tokens=(TOKEN,), workers=1, pathology_model=str(tmp_path / "model")))
    with TestClient(app) as with_coder:
        result = with_coder.post("/v1/pathology", json={"id": "p2", "text": PATHOLOGY}, headers=AUTH).json()
        assert result["coded"] == {"cancer_type": "PRAD", "icd_o_3_histology": "8140/3"}
        cancer = result["coding"]["fields"]["cancer_type"]
        assert cancer["evidence"] and cancer["alternatives"][0][0] == "PRAD"
        benign = with_coder.post(
            "/v1/pathology",
            json={
                "text": "Prostate, needle biopsies: benign prostatic tissue in all twelve cores. No carcinoma."
            },
            headers=AUTH,
        ).json()
        assert benign["coded"] == {"cancer_type": None, "icd_o_3_histology": None}
        assert "benign" in benign["coding"]["withheld"]


def test_deid_route(client: TestClient) -> None:
    response = client.post(
        "/v1/deid", json={"text": "Seen by Dr. Healey on 7/22.", "mode": "tag"}, headers=AUTH
    )
    assert response.json() == {
        "text": "Seen by Dr. [NAME] on [DATE].",
        "mode": "tag",
        "counts": {"NAME": 1, "DATE": 1},
        "spans": [{"start": 12, "end": 18, "label": "NAME"}, {"start": 22, "end": 26, "label": "DATE"}],
    }
    assert client.post("/v1/deid", json={"text": "x", "mode": "blur"}, headers=AUTH).status_code == 422


def test_batch_reports_failures_per_document(client: TestClient) -> None:
    body = {
        "documents": [
            {"id": "a", "text": "CHF."},
            {"id": "b", "text": "   "},
            {"id": "c", "text": "Denies fever."},
        ]
    }
    response = client.post("/v1/batch", json=body, headers=AUTH).json()
    assert [r["id"] for r in response["results"]] == ["a", "c"]
    assert response["failures"] == [{"id": "b", "reason": "empty document"}]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": REPORT}, {"resource": {**REPORT, "id": "dr2"}}],
    }
    many = client.post(
        "/v1/batch", content=json.dumps(bundle), headers={**AUTH, "content-type": "application/fhir+json"}
    )
    assert [r["id"] for r in many.json()["results"]] == ["DiagnosticReport/dr1", "DiagnosticReport/dr2"]
    one = client.post(
        "/v1/process", content=json.dumps(bundle), headers={**AUTH, "content-type": "application/fhir+json"}
    )
    assert one.status_code == 422 and "/v1/batch" in one.json()["detail"]


def test_authentication(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.post("/v1/process", json={"text": "CHF."}, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
    assert (
        client.post(
            "/v1/process", json={"text": "CHF."}, headers={"Authorization": "Bearer another-token"}
        ).status_code
        == 200
    )
    assert client.get("/metrics").status_code == 401
    assert client.get("/healthz").json() == {"status": "ok"}  # probes need no token
    assert client.get("/readyz").status_code == 200


def test_limits_and_bad_input_are_problem_details(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Zebulon Quartermaine"
    with caplog.at_level(logging.DEBUG):
        too_big = client.post(
            "/v1/process", content="x" * 30000, headers={**AUTH, "content-type": "text/plain"}
        )
        too_long = client.post("/v1/process", json={"text": f"{secret} " * 300}, headers=AUTH)
        binary = client.post(
            "/v1/process",
            content=b"\x00\x01\x02" + secret.encode(),
            headers={**AUTH, "content-type": "text/plain"},
        )
        malformed = client.post(
            "/v1/process",
            content=b'{"text": "' + secret.encode(),
            headers={**AUTH, "content-type": "application/json"},
        )
        wrong_type = client.post(
            "/v1/process", content=b"<xml/>", headers={**AUTH, "content-type": "application/xml"}
        )
        bad_hl7 = client.post(
            "/v1/process",
            content=f"PID|1||{secret}",
            headers={**AUTH, "content-type": "x-application/hl7-v2+er7"},
        )
        bad_fhir = client.post(
            "/v1/process",
            content=json.dumps({"resourceType": "Patient", "name": [{"text": secret}]}),
            headers={**AUTH, "content-type": "application/fhir+json"},
        )
        cp1252 = client.post(
            "/v1/process",
            content="Seen at the café. Denies chest pain.".encode("cp1252"),
            headers={**AUTH, "content-type": "text/plain"},
        )
    assert (too_big.status_code, too_long.status_code) == (413, 413)
    assert (binary.status_code, malformed.status_code, wrong_type.status_code) == (422, 422, 415)
    assert (bad_hl7.status_code, bad_fhir.status_code) == (422, 422)
    assert cp1252.status_code == 200 and cp1252.json()["concepts"][0]["code"] == "R07.9"
    for response in (too_big, too_long, binary, malformed, wrong_type, bad_hl7, bad_fhir):
        problem = response.json()
        assert (
            set(problem) == {"type", "title", "status", "detail"}
            and problem["status"] == response.status_code
        )
        assert secret not in response.text
    assert secret not in caplog.text and "Zebulon" not in caplog.text


def test_metrics_count_requests_and_documents(client: TestClient) -> None:
    client.post("/v1/process", json={"text": "CHF."}, headers=AUTH)
    text = client.get("/metrics", headers=AUTH).text
    assert 'nlp_engine_requests_total{route="/v1/process",status="200"}' in text
    assert 'nlp_engine_documents_total{route="process"}' in text
    assert "nlp_engine_request_seconds_bucket" in text and "nlp_engine_queue_depth" in text
    client.get("/no/such/path/1")
    assert 'route="other"' in client.get("/metrics", headers=AUTH).text


def test_openapi_schema_lists_the_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {
        "/v1/process",
        "/v1/code",
        "/v1/deid",
        "/v1/batch",
        "/v1/pathology",
        "/healthz",
        "/readyz",
    } <= set(schema["paths"])
    content = schema["paths"]["/v1/process"]["post"]["requestBody"]["content"]
    assert {"text/plain", "application/json", "application/fhir+json", "x-application/hl7-v2+er7"} <= set(
        content
    )


def test_cors_is_off_unless_asked_for(client: TestClient) -> None:
    preflight = {"Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/process", headers=preflight).headers
    app = create_app(Settings(workers=1, cors_origins=("https://ehr.example.org",)))
    with TestClient(app) as allowed:
        response = allowed.options("/v1/process", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://ehr.example.org"


def test_serve_refuses_an_open_address_without_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from nlp_engine.cli import app

    monkeypatch.delenv("NLP_ENGINE_API_TOKENS", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2 and "without bearer tokens" in result.output
