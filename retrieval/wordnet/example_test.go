package wordnet_test

import (
	"fmt"

	"storybot/retrieval/wordnet"
)

func ExampleSimilar() {
	// "who backs hitting the cartels" against "a faction supports military strikes"
	for _, pair := range [][2]string{{"backs", "supports"}, {"hitting", "strikes"}, {"cartels", "cartel"}, {"bombed", "strikes"}, {"favors", "supports"}} {
		rel, ok := wordnet.Similar(pair[0], pair[1])
		fmt.Println(pair[0], pair[1], rel, ok)
	}
	// Output:
	// backs supports synonym true
	// hitting strikes synonym true
	// cartels cartel inflection true
	// bombed strikes coordinate true
	// favors supports none false
}

func ExampleLemma() {
	fmt.Println(wordnet.Lemma("supported"), wordnet.Lemma("went"), wordnet.Lemma("cartels"))
	// Output: [supported support] [go] [cartel]
}

func ExampleAntonyms() {
	fmt.Println(wordnet.Antonyms("official"), wordnet.Antonyms("unofficially"))
	// Output: [unofficial] [officially]
}

func ExampleLinks() {
	// A question word's closest links, to look sentence words up in. They
	// span its senses: a supporter is also a garter.
	for _, l := range wordnet.Links("supporters") {
		if l.Relation <= wordnet.Derivation {
			fmt.Println(l.Word, l.Relation)
		}
	}
	// Output:
	// admirer synonym
	// assistant synonym
	// booster synonym
	// champion synonym
	// friend synonym
	// garter synonym
	// help synonym
	// helper synonym
	// jockstrap synonym
	// protagonist synonym
	// sponsor synonym
	// support derivation
	// supporter inflection
	// suspensor synonym
}
