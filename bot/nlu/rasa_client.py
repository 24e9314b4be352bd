"""HTTP client for a Rasa NLU server's `/model/parse`."""
from __future__ import annotations

import math
from typing import Any

import httpx

from bot.nlu.sentence_vectors import DIMENSIONS, OUTPUT_KEY
from bot.nlu.understanding import FAQ_PREFIX, UNSURE, Entity, NluUnavailable, Understanding


class RasaClient:
    def __init__(self, url: str, auth_token: str, timeout: float):
        self.url = url
        self._params = {"token": auth_token} if auth_token else {}
        self._http = httpx.Client(base_url=url, timeout=timeout)

    def parse(self, text: str) -> Understanding:
        try:
            response = self._http.post("/model/parse", params=self._params, json={"text": text})
            response.raise_for_status()
            return understanding_from_rasa(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise NluUnavailable(f"Rasa at {self.url}: {exc.__class__.__name__}: {exc}") from exc

    def is_ready(self) -> bool:
        """True when the server answers with a loaded model."""
        try:
            response = self._http.get("/status", params=self._params)
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    def close(self) -> None:
        self._http.close()


def understanding_from_rasa(payload: dict[str, Any]) -> Understanding:
    """Flatten Rasa's intent ranking and FAQ response-selector ranking into one ranked list of labels.

    A FAQ topic's confidence is the intent confidence times the response selector's, so an answer
    needs both to be sure. `payload` is Rasa's JSON as received: a malformed one raises KeyError or TypeError
    (a malformed sentence vector is left out: the local classifier then answers from the words alone).
    """
    selector = (payload.get("response_selector") or {}).get(FAQ_PREFIX.rstrip("/"), {})
    ranked: list[tuple[str, float]] = []
    for item in payload.get("intent_ranking") or []:
        name, confidence = item["name"], float(item["confidence"])
        if name == UNSURE:
            continue
        if name == FAQ_PREFIX.rstrip("/") and selector.get("ranking"):
            for topic in selector["ranking"]:
                ranked.append((topic["intent_response_key"], confidence * float(topic["confidence"])))
        else:
            ranked.append((name, confidence))
    ranked.sort(key=lambda pair: pair[1], reverse=True)
    entities = tuple(
        Entity(entity=e["entity"], value=e.get("value")) for e in payload.get("entities") or []
    )
    meaning = _sentence_vector(payload.get(OUTPUT_KEY))
    top_name = (payload.get("intent") or {}).get("name")
    if top_name == UNSURE or not ranked:
        # Rasa's FallbackClassifier found the message too unclear or too ambiguous.
        confidence = ranked[0][1] if ranked else 0.0
        return Understanding(UNSURE, confidence, tuple(ranked[:10]), entities=entities, meaning=meaning)
    return Understanding(ranked[0][0], ranked[0][1], tuple(ranked[:10]), entities=entities, meaning=meaning)


def _sentence_vector(value: object) -> tuple[float, ...]:
    """The vector as sent when it is one: DIMENSIONS plain numbers of unit length (or all zero, for an empty text)."""
    if not isinstance(value, list) or len(value) != DIMENSIONS:
        return ()
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in value):
        return ()
    length = math.sqrt(math.fsum(float(x) * float(x) for x in value))
    return tuple(float(x) for x in value) if length == 0 or abs(length - 1) < 0.01 else ()
