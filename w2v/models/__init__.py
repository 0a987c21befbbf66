"""The models users make: `Word2Vec` (CBOW or skip-gram, negative sampling and/or
hierarchical softmax, Adam or SGD), built on the data pipeline, the training layer and
the vectors API."""
