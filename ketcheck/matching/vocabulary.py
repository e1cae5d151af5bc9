"""The words of a medication line that are not drug names: doses, forms, sig, salts, qualifiers.

Every word a resolved entry keeps outside its drug names must be one of these (or a short
word): that is how a resolution accounts for every word of its entry.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


UNITS = _words(
    """
    mg mgs mcg mcgs ug g gm gms gram grams kg ml mls l cc unit units unt iu u meq mmol % mg/ml
    mg/kg mcg/hr mcg/h ug/h mg/24h mg/day mg/d mg/actuat mcg/actuat mg/5ml mg/device mg/hr
    unt/ml iu/ml mcg/ml meq/ml mg/g puff puffs spray sprays drop drops gtt gtts actuation
    actuations actuat dose doses milligram milligrams microgram micrograms milliliter
    milliliters millilitre millilitres teaspoon teaspoons tablespoon tablespoons tsp tbsp
    dropper dropperful mgtotal
    """
)
FORMS = _words(
    """
    tab tabs tablet tablets tabls cap caps capsule capsules caplet caplets film films sachet
    sachets patch patches injection injections injectable inj solution soln sol susp
    suspension cream ointment oint gel lotion inhaler inhalers inh neb nebulizer nebuliser
    nebs vial vials pen pens lozenge lozenges troche troches gum liquid syrup elixir chewable
    chew drops spray nasal suppository suppositories supp powder granules wafer wafers strip
    strips kit disc diskus respimat handihaler ellipta flexpen kwikpen autoinjector injector
    pump foam shampoo implant ring depot auto auto-injector pre-filled infusion infusions
    tincture tinct extract tea softgel elix elixirs syr liq crm ung
    softgels gummy gummies hfa mdi oral liquid-filled pill pills metered inhalation
    transdermal system drug intrauterine vaginal prefilled syringe syringes cartridge device
    disintegrating effervescent enteric coated topical ophthalmic otic rectal buccal
    sublingual shot shots jelly emulsion concentrate chewables dissolvable lollipop
    application applications applicator applicators applicatorful
    """
)
ROUTES = _words(
    """
    po p.o. sl iv im sc sq subq subcut pr top topical td transdermal buccal inhaled
    intranasal nasally orally oral sublingual sublingually vaginal rectal ophthalmic otic
    nostril nostrils eye eyes ear ears mouth ng peg intravenous intramuscular subcutaneous
    intravenously intramuscularly subcutaneously externally topically vaginally rectally
    tongue skin
    """
)
FREQUENCY = _words(
    """
    qd od daily bid tid qid qds tds bd qhs hs qam qpm qod qow prn q1h q2h q3h q4h q6h q8h
    q12h q24h q72h qweek qwk weekly monthly nightly once twice thrice times time a day days
    week weeks month months year years every each morning mornings evening evenings night
    nights bedtime noon afternoon afternoons hourly hours hour hr hrs h x per as needed when
    required at in the before after meals meal food breakfast lunch dinner supper empty
    stomach then alternate alternating other biweekly fortnightly weekdays weekends weekend
    sometimes occasionally occasional often rarely usually always most nearly almost
    regularly daytime nocte qn sos bt stat pc ud dly biw tiw qmo
    """
)
SIG = _words(
    """
    take takes taking taken took use uses using used apply applies inhale inject injects give
    chew dissolve place instill insert spray swallow start starts started stop stopped
    continue continues continued hold held rx sig by to for of on up and or if not no do
    under over into onto from until while during within without with unless except than
    more less max maximum minimum exceed exceeding directed direction directions instructions
    instruction total needed need needs necessary required require symptoms symptom relief
    pain anxiety panic sleep insomnia depression mood migraine migraines headache headaches
    nausea vomiting allergy allergies blood pressure cholesterol sugar diabetes heart
    seizure seizures epilepsy focus attention smoking cessation flights flight flying
    festivals festival parties party social socially recreational recreationally treatment
    treatments session sessions therapy maintenance induction rescue breakthrough chronic
    acute nerve back joint arthritis muscle muscles spasm spasms cramps period periods
    contraception birth control prevention preventive prophylaxis mild moderate severe
    extreme heavy light lightly whole half quarter split crush crushed scored titrate
    titrating taper tapering tapered wean weaning increase increased increasing decrease
    decreased decreasing reduce reduced restart restarted resume resumed discontinue
    discontinued prior procedure surgery appointment visit since ago last past about around
    approximately approx roughly only also just still currently current patient reports
    reported states stated prescribed prescriber doctor psychiatrist pharmacy refill refills
    qty quantity dispense disp supply supplies office clinic hospital home affected area
    thin layer both left right each side cheek gums liquids water juice milk glass glasses
    cups cup drinks drink beers sips small large bottle bottles pack packs i me my mine her
    his their a an the this that these those is are was were be been it its some any all
    lot lots few several many much plenty little same new old one two three four five six
    seven eight nine ten eleven twelve first second third fourth daily-dose wk wks mo mos yr
    yrs dx reason indication indications note notes comment comments see per times-daily
    tabs(s) tab(s) cap(s) dosage strength strengths usual usually regular routine routinely
    schedule scheduled standing prn-only otc over-the-counter counter prescription generic
    brand name names self self-prescribed bought online friend friends family partner street
    sleeping sleepless awake wakeful calm calming relax relaxing relaxation stress stressful
    nerves nervous worry worries sad sadness hyper hyperactivity adhd add ocd ptsd gad mdd
    pills tablets capsules
    differently amount rfl refilled dispensed fill filled fills earliest date dated dates
    historical end ended ends ordered provider authorizing pcp
    """
)
RELEASE = _words(
    """
    xr er sr xl cr la cd odt dr ec ir xt sa ir/er zydis relprevv sustenna trinza hafyera
    maintena lai retard mr pa extended sustained delayed immediate controlled
    modified release prolonged long-acting short-acting acting orally-disintegrating chrono
    long prolong expidet soltab velotab forte depot retardtabletten retardkapseln lp
    """
)
RELEASE_PHRASES = (
    "extended release",
    "extended-release",
    "sustained release",
    "delayed release",
    "immediate release",
    "controlled release",
    "modified release",
    "long acting",
    "long-acting",
    "orally disintegrating",
    "prolonged release",
)
SALTS = _words(
    """
    hydrochloride hcl hydrobromide hbr sulfate sulphate sulf bisulfate oxalate tartrate tart
    bitartrate carbonate carb citrate sodium sod potassium pot maleate mal mesylate
    dimesylate besylate besilate besy succinate succ fumarate fum hemifumarate acetate
    phosphate diphosphate bromide chloride lactate gluconate malate napsylate pamoate pam
    decanoate enanthate cypionate valerate propionate dipropionate furoate monohydrate
    dihydrate trihydrate hemihydrate anhydrous base free salt magnesium calcium hyclate
    monohydrochloride dihydrochloride embonate axetil medoxomil pivoxil probutate lauroxil
    mofetil disoproxil alafenamide tromethamine trometamol xinafoate nitrate erbumine
    porcine bovine human recombinant macrocrystals macrocrystalline modified regular zinc
    procaine benzathine
    """
)
# After a comma, salt words that begin a part of a line name an ingredient of their own only
# when they hold one of these (", sodium chloride"); others qualify the name ("heparin, porcine").
CATIONS = frozenset({"sodium", "sod", "potassium", "pot", "magnesium", "calcium", "zinc"})
# After these, a name is more likely what the medicine treats than a second medicine.
INDICATION_MARKERS = frozenset({"for", "dx", "indication", "indications", "reason", "treats"})
# Words that name no drug but label the product: maker, quality marks, RxNorm qualifiers.
QUALIFIERS = _words(
    """
    generic brand regular extra maximum max strength children's childrens child kids junior
    adult adults low dose starter titration pack packs blister supply otc prescription rx:
    new old home usual usp nf bp ph.eur abuse deterrent abuse-deterrent breath actuated
    breath-actuated dry 28-day day-pack ratiopharm teva mylan biogaran sandoz hexal zentiva
    accord aristo neuraxpharm stada viatris 1a eg arrow winthrop apotex aurobindo sun lupin
    zydus cipla dr. reddy's reddys torrent heumann ct betapharm al krka actavis pfizer
    almus cristers ranbaxy basics abz
    """
)
# Words that change which product is meant when they follow a brand ("Tylenol PM",
# "Claritin-D", "Advil Cold & Sinus"): after a name they are never set aside silently.
PRODUCT_SUFFIXES = _words(
    """
    pm am d dm cold flu sinus allergy night nighttime day daytime sleep migraine cough
    congestion severe complete multi multi-symptom hbp es ds ii iii
    """
)
SEPARATORS = _words(", ; and & + plus / or with also")
# Words for a medicine that name none ("Zoloft and pain meds", "+ BP med"): a part of a line that
# holds one and no name is a medicine left unnamed. Form words count only after "and", "plus" or
# "with" and without a dose ("Zoloft and a sleeping pill", not "Zoloft 50 mg, 1 pill daily").
UNNAMED_MEDICINES = _words(
    "med meds medication medications medicine medicines drugs contraceptive contraceptives "
    "supplement supplements"
)
UNNAMED_FORMS = _words("pill pills patch patches shot shots injection injections inhaler inhalers")
WORD_SEPARATORS = _words("and & + plus with also")
# Words that say the medicine named right after them is not taken ("Tylenol without codeine",
# "w/o codeine"): that name is a doubt, never an ingredient and never set aside as a sig word.
NEGATORS = _words("without no not except excluding")
# Joiners that hold one product together ("buprenorphine/naloxone", "co-codamol").
PRODUCT_JOINERS = frozenset({"/", "-", "+", "with"})
OPEN = frozenset("([{")
CLOSE = frozenset(")]}")

INSTRUCTION_WORDS = UNITS | FORMS | ROUTES | FREQUENCY | SIG | RELEASE | QUALIFIERS

# A number (ranges and "2x5" joined), then units, rates and the like. Each part has one way to
# match: a nested repeat such as (?:[a-z]+[\d.]*)* tried exponentially many splits of a long
# word that fails at its end ("5" + 24 letters + "!" took 4 s), so the unit part is one run
# and the number's repeats are possessive (taking every block they can never loses a match).
DOSE_TOKEN = re.compile(
    r"^(?:[~≈<>]?\d[\d.,]*(?:[-/x+]\d[\d.,]*)*+(?:[a-z%µ/][a-z%µ/\d.]*)?|"
    r"[\d.]+-[\d.]+[a-z]*|\d+(?:st|nd|rd|th)|\d+(?:[.,]\d+)?-?(?:mg|mcg|ml|g)s?)$"
)
FREQUENCY_TOKEN = re.compile(
    r"^q\d+(?:-\d+)?(?:h|hr|hrs|hours|d|days|w|wk)?$|^\d+x$|^x\d+$|^q\d+-\d+h$"
)
NUMBER_MARK = re.compile(r"^#\d+$|^no\.?\d+$")
RXNORM_CODE = re.compile(r"^nda\d+$|^anda\d+$|^bla\d+$")
