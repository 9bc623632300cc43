"""Common given names, for telling a person's name ("Jan Kowalski") from a company's.

Compiled for this project from general knowledge of the most frequent given names in
each language (the kind of list national statistics offices publish), not copied from
any one source. Names are written as people write them; `GIVEN_NAMES` holds them folded
(`enrichment.names.fold`), so "José" and "JOSE" are one name. Add names freely: a name
here only makes a bare "given name + surname" read as a person.

Left out on purpose: given names that are everyday words in company names ("Grace",
"Hope", "Star", "Mercedes", "Luz", "Can", "Bulut"), where a firm named "Ruby Tuesday" or
"Mercedes Benz" would be taken for a person.
"""

from __future__ import annotations

from enrichment.names import fold

_BY_LANGUAGE = {
    "en": """
 james john robert michael william david richard joseph thomas charles christopher daniel matthew
 anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward
 jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin
 samuel gregory alexander patrick frank raymond jack dennis jerry tyler aaron jose adam nathan
 henry douglas zachary peter kyle noah ethan jeremy walter christian keith roger terry austin
 sean gerald carl harold dylan arthur lawrence jordan jesse bryan billy bruce gabriel joe logan
 alan juan albert willie elijah wayne randy vincent  roy ralph bobby russell bradley philip
 eugene liam oliver harry charlie oscar alfie archie freddie isaac malcolm isabella olivia
 mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra
 margaret ashley kimberly emily donna michelle carol amanda melissa deborah stephanie rebecca
 sharon laura cynthia dorothy amy kathleen angela shirley emma brenda pamela nicole anna samantha
 katherine christine helen debra rachel carolyn janet maria catherine heather diane olivia julie
 joyce victoria ruth virginia lauren kelly christina joan evelyn judith andrea hannah megan
 cheryl jacqueline martha madison teresa  sara janice ann kathryn abigail sophia frances
 jean alice judy isabella julia denise  doris marilyn danielle beverly charlotte natalie
 theresa diana brittany kayla alexis lori tiffany gertrude dora bernice evelyn
 """,
    "de": """
 hans peter klaus jürgen wolfgang michael thomas andreas stefan frank uwe bernd dieter manfred
 werner günter horst helmut gerhard jörg ralf karl heinz rainer dirk matthias markus christian
 martin sebastian alexander tobias florian jan lukas leon finn jonas paul felix maximilian
 moritz niklas tim philipp daniel sven torsten holger volker ulrich norbert reinhard rolf
 friedrich wilhelm otto ernst kurt fritz hermann johannes georg heinrich walter joachim
 monika sabine petra andrea birgit susanne claudia karin ursula renate gabriele brigitte
 ingrid helga christa heike stefanie katrin nicole julia sandra melanie anja silke anke
 kerstin bettina martina angelika elke marion doris sigrid gisela hannelore erika jutta
 lena lea hannah sophie mia emma laura lisa marie johanna katharina franziska annika jana
 """,
    "fr": """
 jean pierre michel philippe alain jacques bernard patrick daniel nicolas christophe
 françois éric frédéric laurent stéphane olivier thierry pascal sébastien julien david
 didier christian dominique gérard bruno vincent thomas antoine guillaume maxime alexandre
 mathieu jérôme yves denis claude rené louis henri marcel andré roger hugo lucas théo
 nathan enzo clément romain arnaud benoît cédric fabrice franck gilles hervé jean-luc
 jean-pierre jean-claude jean-marc jean-paul lionel ludovic mickaël sylvain xavier yannick
 marie nathalie isabelle sylvie catherine françoise christine monique valérie sandrine
 véronique martine nicole sophie céline stéphanie chantal brigitte anne christiane patricia
 caroline julie aurélie émilie élodie camille manon léa chloé inès jeanne juliette
 margaux mathilde pauline virginie laurence danielle jacqueline josiane odile hélène
 geneviève sabine corinne florence delphine agnès claire lucie marine jeannine sophie
 """,
    "es": """
 antonio manuel josé francisco david juan javier daniel carlos jesús alejandro miguel rafael
 pedro pablo ángel sergio fernando jorge luis alberto álvaro adrián diego raúl enrique ramón
 vicente andrés joaquín santiago víctor eduardo roberto jaime ignacio alfonso ricardo mario
 emilio salvador marcos guillermo gonzalo rubén iván óscar hugo héctor felipe gerardo
 arturo armando alfredo ernesto rodrigo martín nicolás sebastián mateo lucas leonardo
 maría carmen josefa isabel ana laura cristina marta francisca lucía antonia elena
 sara paula raquel manuela rosa beatriz juana teresa patricia encarnación alba silvia
 julia irene andrea montserrat rocío inmaculada alicia sonia marina nuria susana yolanda
 natalia claudia verónica eva angela guadalupe margarita gabriela alejandra daniela
 valentina sofía camila mariana fernanda adriana monica lorena clara
 """,
    "pt": """
 joão josé antónio antonio francisco carlos paulo pedro lucas luiz luís marcos gabriel rafael
 daniel marcelo bruno eduardo felipe raimundo rodrigo manoel manuel sebastião mateus andré
 fernando fábio leonardo gustavo guilherme leandro tiago thiago diego anderson márcio
 sérgio ricardo alexandre vinícius júlio rui nuno miguel duarte gonçalo afonso tomás
 rodrigo diogo ricardo jorge vítor vitor hugo henrique renato
 maria ana francisca antônia adriana juliana márcia fernanda patrícia aline sandra
 camila amanda bruna jéssica letícia júlia luciana vanessa mariana gabriela vera
 beatriz leonor matilde inês carolina catarina margarida sofia rita joana teresa
 helena isabel luísa cláudia raquel andreia tânia sónia débora priscila
 """,
    "it": """
 giuseppe giovanni antonio mario luigi francesco angelo vincenzo pietro salvatore carlo
 franco domenico bruno paolo michele giorgio aldo sergio luciano marco andrea stefano
 alessandro roberto massimo fabio maurizio davide simone matteo lorenzo riccardo gabriele
 federico enrico filippo leonardo tommaso emanuele claudio alberto giancarlo gianluca
 nicola daniele raffaele gianni renato umberto dario marino martino luca
 maria anna giuseppina rosa angela giovanna teresa lucia carmela caterina francesca
 antonietta carla elena concetta rita margherita paola laura giulia chiara sara
 valentina alessandra federica silvia martina elisa roberta daniela cristina barbara
 serena simona claudia sofia aurora giorgia alice beatrice ginevra
 """,
    "nl": """
 jan johannes hendrik cornelis pieter willem gerrit dirk jacob adrianus petrus johan
 hans kees piet joost bas sander thijs daan sem lars ruben stijn jeroen maarten niels
 bram tim wouter koen jesse lucas levi finn luuk milan thomas bart erik frank rob
 maria johanna anna cornelia wilhelmina elisabeth hendrika geertje sanne lotte
 femke eva anouk iris lisa emma julia sophie tess fleur anne maud lieke marieke
 ingrid annemarie petra ineke karin monique marjolein esther
 """,
    "pl": """
 jan andrzej piotr krzysztof stanisław tomasz paweł józef marcin marek michał grzegorz
 jerzy tadeusz adam łukasz zbigniew ryszard dariusz henryk mariusz kazimierz wojciech
 robert mateusz marian rafał jacek janusz mirosław maciej sławomir jarosław kamil
 wiesław roman władysław jakub artur zdzisław edward mieczysław damian dawid przemysław
 sebastian czesław leszek daniel waldemar szymon bartosz karol ignacy
 konrad radosław wiktor antoni franciszek kacper filip
 anna maria katarzyna małgorzata agnieszka krystyna barbara ewa elżbieta zofia janina
 teresa joanna magdalena monika jadwiga danuta irena halina helena beata aleksandra
 marta dorota marianna grażyna jolanta stanisława iwona karolina bożena urszula
 justyna renata alicja paulina sylwia natalia wanda agata aneta izabela ewelina
 """,
    "tr": """
 mehmet mustafa ahmet ali hüseyin hasan ibrahim ismail osman yusuf murat ömer ramazan
 halil süleyman abdullah mahmut recep salih fatih kadir emre hakan adem kemal yaşar
 burak serkan metin orhan uğur yunus volkan erkan tolga cem onur gökhan kerem emir
 oğuz sinan selim arda ege berk efe eren yiğit alper serdar levent engin barış ugur
 fatma ayşe emine hatice zeynep elif meryem şerife zehra sultan hanife merve
 havva zeliha esra özlem hülya yasemin ebru gül büşra tuğba derya sibel songül
 deniz ece ceren melike pınar dilek gamze sevgi aylin nesrin
 """,
    "ru": """
 александр сергей дмитрий андрей алексей максим евгений иван михаил николай владимир
 артём артем денис павел роман игорь олег константин виктор юрий вадим антон кирилл
 никита илья егор тимур руслан станислав вячеслав василий петр пётр григорий фёдор
 федор борис валерий леонид геннадий анатолий степан всеволод ростислав ярослав
 елена ольга наталья татьяна ирина светлана екатерина анна мария юлия марина
 людмила галина валентина надежда любовь вера нина тамара лариса оксана дарья
 анастасия полина алина ксения виктория валерия софья елизавета кристина
 alexander aleksandr sergey sergei dmitry dmitri dmitriy andrey andrei alexey aleksey
 maxim maksim evgeny evgeniy yevgeny ivan mikhail nikolay nikolai vladimir artem artyom
 denis pavel roman igor oleg konstantin viktor yuri yuriy yury vadim anton kirill nikita
 ilya egor yegor timur ruslan stanislav vyacheslav vasily vasiliy pyotr petr grigory
 fedor fyodor boris valery valeriy leonid gennady anatoly stepan vsevolod rostislav
 yaroslav elena yelena olga natalia natalya tatiana tatyana irina svetlana ekaterina
 yekaterina yulia yuliya marina lyudmila ludmila galina valentina nadezhda lyubov vera
 nina tamara larisa oksana daria darya anastasia anastasiya polina alina ksenia kseniya
 valeriya sofia sofya elizaveta kristina
 """,
    "uk": """
 олександр сергій дмитро андрій олексій максим євген іван михайло микола володимир
 артем денис павло роман ігор олег костянтин віктор юрій вадим антон кирило богдан
 тарас остап назар ярослав василь петро григорій федір борис валерій леонід анатолій
 степан святослав ростислав
 олена ольга наталія тетяна ірина світлана катерина ганна марія юлія марина людмила
 галина валентина надія любов віра ніна тамара лариса оксана дарина анастасія
 софія вікторія христина соломія ярина
 oleksandr serhiy serhii dmytro andriy andrii oleksiy oleksii mykhailo mykola volodymyr
 pavlo ihor kostiantyn yurii kyrylo bohdan taras ostap nazar vasyl petro hryhoriy fedir
 olena nataliia nataliya tetiana tetyana iryna svitlana kateryna hanna mariia yuliia
 liudmyla halyna nadiia lyubov oksana daryna anastasiia sofiia viktoriia khrystyna
 """,
    "nordic": """
 lars anders johan erik karl per nils jan mikael peter hans thomas fredrik magnus bjørn
 ole knut svein arne jens henrik mads søren rasmus kristian konrad
 malcolm freddy
 anna eva maria karin kristina lena sara emma ingrid elin linnea astrid ida nora kari
 marit liv sigrid hanne mette camilla monika sandra elisa evelyn julia
 """,
    "central": """
 jiří jan petr josef pavel martin tomáš jaroslav miroslav zdeněk václav michal karel
 milan vladimír lukáš david jakub ondřej radek miloslav rostislav radoslav
 jana marie eva hana anna lenka kateřina věra lucie alena petra veronika martina
 lászló istván józsef jános zoltán sándor ferenc gábor attila péter tamás zsolt
 gergely dominik
 mária erzsébet katalin ilona éva anna zsuzsanna margit judit ágnes andrea ema
 """,
    "ar": """
 mohammed muhammad mohamed ahmed ahmad ali omar umar hassan hussein ibrahim khalid
 youssef yusuf abdullah abdul karim mahmoud mustafa tariq samir walid said hamza
 bilal nabil rashid faisal
 fatima aisha khadija maryam mariam zainab amina layla leila nour salma huda
 """,
}

GIVEN_NAMES = frozenset(fold(name) for names in _BY_LANGUAGE.values() for name in names.split())
