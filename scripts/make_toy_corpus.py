#!/usr/bin/env python
"""Write the bundled toy corpus and its analogy questions (seeded, reproducible).

    python scripts/make_toy_corpus.py            # writes data/toy_corpus.txt, data/toy_questions.txt

The text is synthetic with planted structure. Each category has pairs (a, b) such as
(france, paris) or (king, queen); a word of a pair appears with the words of its side
(country words, or capital-city words; he/his or she/her; ...) and with words that only
its pair uses (french, seine). So a word's vector should be roughly side + pair, and
b1 - a1 + a2 should land on b2: a trainer that learns solves the analogies, an
untrained or broken one cannot.
"""
import argparse
import os
import random

from w2v.io import atomic_write

# category: (side-a words, side-b words, [(a, b, pair words...)])
CATEGORIES = {
    "capital-country": (
        ["country", "nation", "border", "territory"],
        ["city", "capital", "mayor", "streets"],
        [("france", "paris", "french", "seine"), ("germany", "berlin", "german", "rhine"),
         ("italy", "rome", "italian", "tiber"), ("spain", "madrid", "spanish", "flamenco"),
         ("japan", "tokyo", "japanese", "sushi"), ("china", "beijing", "chinese", "panda"),
         ("russia", "moscow", "russian", "volga"), ("egypt", "cairo", "egyptian", "nile"),
         ("greece", "athens", "greek", "olympus"), ("poland", "warsaw", "polish", "vistula"),
         ("sweden", "stockholm", "swedish", "baltic"), ("norway", "oslo", "norwegian", "fjord")]),
    "male-female": (
        ["he", "his", "him", "himself"],
        ["she", "her", "hers", "herself"],
        [("king", "queen", "throne", "reign"), ("prince", "princess", "castle", "heir"),
         ("man", "woman", "adult", "job"), ("boy", "girl", "child", "school"),
         ("father", "mother", "parent", "family"), ("son", "daughter", "offspring", "born"),
         ("brother", "sister", "sibling", "twin"), ("husband", "wife", "married", "wedding"),
         ("uncle", "aunt", "relative", "visit"), ("nephew", "niece", "cousin", "gift"),
         ("actor", "actress", "stage", "film"), ("waiter", "waitress", "restaurant", "tray")]),
    "singular-plural": (
        ["one", "this", "single", "lone"],
        ["two", "these", "many", "several"],
        [("cat", "cats", "meow", "whiskers"), ("dog", "dogs", "bark", "leash"),
         ("car", "cars", "engine", "wheels"), ("tree", "trees", "leaves", "forest"),
         ("house", "houses", "roof", "door"), ("bird", "birds", "wings", "nest"),
         ("apple", "apples", "fruit", "orchard"), ("book", "books", "pages", "library"),
         ("horse", "horses", "saddle", "stable"), ("river", "rivers", "water", "bridge"),
         ("chair", "chairs", "seat", "table"), ("shoe", "shoes", "feet", "laces")]),
    "present-past": (
        ["today", "now", "usually", "often"],
        ["yesterday", "ago", "earlier", "previously"],
        [("walk", "walked", "park", "path"), ("play", "played", "game", "ball"),
         ("jump", "jumped", "high", "fence"), ("cook", "cooked", "kitchen", "dinner"),
         ("paint", "painted", "brush", "canvas"), ("talk", "talked", "words", "phone"),
         ("climb", "climbed", "mountain", "rope"), ("dance", "danced", "music", "party"),
         ("watch", "watched", "television", "screen"), ("clean", "cleaned", "room", "soap"),
         ("open", "opened", "window", "key"), ("call", "called", "friend", "number")]),
}
FILLERS = ["the", "and", "of", "in", "with", "is", "was", "to", "very", "there", "at", "for"]


def sentence(rng: random.Random) -> str:
    side_a, side_b, pairs = CATEGORIES[rng.choice(sorted(CATEGORIES))]
    a, b, *pair_words = rng.choice(pairs)
    word, side = (a, side_a) if rng.random() < 0.5 else (b, side_b)
    words = ([word] + rng.sample(side, 2) + rng.sample(pair_words, rng.randint(1, 2))
             + [rng.choice(FILLERS) for _ in range(rng.randint(1, 3))])
    rng.shuffle(words)
    return " ".join(words)


def questions() -> str:
    lines = []
    for name, (_, _, pairs) in CATEGORIES.items():
        lines.append(f": {name}")
        for a1, b1, *_ in pairs:
            for a2, b2, *_ in pairs:
                if a1 != a2:
                    lines.append(f"{a1} {b1} {a2} {b2}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=os.path.join(here, "..", "data"))
    parser.add_argument("--sentences", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    text = "".join(sentence(rng) + "\n" for _ in range(args.sentences))
    with atomic_write(os.path.join(args.out_dir, "toy_corpus.txt")) as f:
        f.write(text.encode("utf-8"))
    with atomic_write(os.path.join(args.out_dir, "toy_questions.txt")) as f:
        f.write(questions().encode("utf-8"))


if __name__ == "__main__":
    main()
