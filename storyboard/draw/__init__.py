"""Drawing that the cut, the boards, the review page and the animatic share: fonts in every alphabet,
text fitted to boxes, cards, slates and character colours."""
