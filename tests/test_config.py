import pytest

from w2v import Config


@pytest.mark.parametrize("name,value", [
    ("vector_size", 0), ("window", 0), ("negative", -1), ("min_count", 0), ("epochs", 0),
    ("workers", 0), ("sample", -1e-3), ("lr", 0.0), ("lr", -1.0), ("alpha", 0.0),
    ("beta1", 1.0), ("beta2", -0.1), ("eps", 0.0), ("batch_words", 0), ("optimizer", "adagrad"),
    ("max_sentence_length", 0), ("min_alpha", 1.0), ("ns_exponent", float("nan")),
    ("max_final_vocab", 0), ("encoding_errors", "skip"),
])
def test_out_of_range_values_name_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        Config(**{name: value})


def test_wrong_types_and_unknown_names():
    with pytest.raises(TypeError, match="vector_size"):
        Config(vector_size=10.5)
    with pytest.raises(TypeError, match="windw"):
        Config().replace(windw=3)
    with pytest.raises(ValueError, match="unknown config field"):
        Config.from_dict({"vector_size": 10, "speed": 3})


def test_round_trip_through_dict():
    config = Config(vector_size=32, optimizer="sgd", workers=3, max_final_vocab=100)
    assert Config.from_dict(config.to_dict()) == config
