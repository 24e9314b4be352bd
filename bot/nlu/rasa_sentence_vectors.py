"""The Rasa side of the sentence vectors: a pipeline component (config.yml) that adds each parsed message's vector
(bot/nlu/sentence_vectors.py) to Rasa's `/model/parse` answer as `sentence_vector`, for the local classifier.

The encoder takes about 120 MB of memory: it lives in the Rasa server (its own service, 1.2 GB already), not in the
bot's processes, whose budget is 200 MB (bench/engine_latency.py). Imported by Rasa only (Python 3.10, .venv-rasa,
the project root on its PYTHONPATH); Rasa's own models are unchanged (the vector is not one of DIET's features).
"""
from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent  # type: ignore[import-not-found]
from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # type: ignore[import-not-found]
from rasa.engine.storage.resource import Resource  # type: ignore[import-not-found]
from rasa.engine.storage.storage import ModelStorage  # type: ignore[import-not-found]
from rasa.shared.nlu.constants import TEXT  # type: ignore[import-not-found]
from rasa.shared.nlu.training_data.message import Message  # type: ignore[import-not-found]
from rasa.shared.nlu.training_data.training_data import TrainingData  # type: ignore[import-not-found]

from bot.nlu.sentence_vectors import OUTPUT_KEY, sentence_vectors


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceVectors(GraphComponent):  # type: ignore[misc]
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceVectors:
        sentence_vectors([""])  # loads the encoder with the model (about 1 s), not during the first parse
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # training does not use the vectors: nothing to compute

    def process(self, messages: list[Message]) -> list[Message]:
        texts = [message.get(TEXT) or "" for message in messages]
        for message, vector in zip(messages, sentence_vectors(texts), strict=True):
            message.set(OUTPUT_KEY, [round(float(x), 6) for x in vector], add_to_output=True)
        return messages
