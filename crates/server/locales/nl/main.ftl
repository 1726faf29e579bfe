# Opmaak, navigatie, startpagina en foutpagina's (Nederlands).
layout-skip = Direct naar de inhoud
layout-language = Taal
layout-nav = Hoofdmenu
layout-danger = In direct gevaar? Bel 112.
nav-report = Melding maken
nav-report-hashes = Melden met alleen vingerafdrukken
nav-help = Hulp en steun
nav-policy = Hoe wij modereren
nav-privacy = Privacy

home-title = Meld intieme beelden die zonder toestemming zijn gedeeld
home-intro = Hier vraagt u { $service } om intieme beelden of deepfakes van u te verwijderen die zonder uw toestemming online staan, en volgt u wat er met uw melding gebeurt.
home-private = U kunt ook melden met alleen vingerafdrukken: uw foto's krijgen een vingerafdruk op uw eigen apparaat en worden nooit verstuurd.

support-title = U hoeft dit niet alleen te doen
support-intro = Praten met iemand kan helpen. Er is gratis en vertrouwelijke hulp, ook midden in de nacht.
support-more = Waar u hulp vindt

error-code = Foutcode { $status }
error-home = Naar de startpagina
error-400-title = Er klopte iets niet aan het verzoek
error-400-text = De pagina kon niet verwerken wat er werd verstuurd. Ga terug en probeer het opnieuw.
error-403-title = Niet toegestaan
error-403-text = U hebt geen toestemming om dit te doen.
error-404-title = Pagina niet gevonden
error-404-text = Deze pagina bestaat niet, of de link is onvolledig. Controleer het adres, of begin opnieuw op de startpagina.
error-405-title = Deze pagina werkt niet op deze manier
error-405-text = De link of het formulier dat u gebruikte werkt niet met deze pagina. Open de pagina via de startpagina.
error-409-title = Dit wordt al verstuurd
error-409-text = Wat u verstuurde wordt nog verwerkt. Wacht even en open de pagina opnieuw: er gaat niets verloren.
error-413-title = Te veel gegevens
error-413-text = Wat u verstuurde is te groot. Verstuur minder tegelijk.
error-429-title = Te veel verzoeken
error-429-text = U hebt veel verstuurd in korte tijd. Wacht een minuut en probeer het dan opnieuw. Wat u typte, gaat niet verloren als u teruggaat.
error-500-title = Er ging bij ons iets mis
error-500-text = Dit ligt niet aan u. Probeer het over een paar minuten opnieuw.

## Month names for dates people read ("30 November 2026, 09:28").
month-1 = januari
month-2 = februari
month-3 = maart
month-4 = april
month-5 = mei
month-6 = juni
month-7 = juli
month-8 = augustus
month-9 = september
month-10 = oktober
month-11 = november
month-12 = december
