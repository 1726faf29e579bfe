# E-mails aan melders (crates/server/src/mail.rs). Platte tekst; links en nummers voegt de code toe.
mail-received-subject = We hebben uw melding ontvangen
mail-received-thanks = Bedankt voor uw melding. We hebben hem ontvangen en gaan hem beoordelen.
mail-received-number = Nummer van uw melding: { $id }
mail-received-follow = Hier ziet u hoe het ermee staat en welk besluit we nemen:
mail-received-keep = Bewaar deze link goed: wie hem heeft, kan uw melding bekijken.
mail-help = Bent u in gevaar? Bel 112. Hulp bij online misbruik van beelden: Helpwanted (helpwanted.nl).
mail-warned-subject = Waarschuwing over uw meldingen
mail-warned-reason = Een aantal van uw meldingen was kennelijk ongegrond: { $reason }.
mail-warned-next = Als dat zo doorgaat, behandelen we uw meldingen een tijd lang niet (DSA art. 23 lid 2).
mail-suspended-subject = Uw meldingen worden tijdelijk niet behandeld
mail-suspended-until = Na een eerdere waarschuwing behandelen we uw meldingen tot { $until } niet (DSA art. 23 lid 2).
mail-suspended-reason = Reden: { $reason }.
